// The access log (access_log.h): per-thread blocks, the writer thread, the two line formats.
#include "http/access_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "http/server.h"

namespace tempo::http {
namespace {

// A line is rendered straight into its thread's block, with no check of the
// room left per byte: a block has room for a whole line of the largest size
// after kAccessLogChunkBytes. To bound that size, a target longer than the
// server accepts, or another text field longer than kMaxFieldBytes, is cut.
constexpr size_t kMaxTargetBytes = kMaxUriBytes;
constexpr size_t kMaxFieldBytes = 512;  // request id, client, method, tier, traceparent
// Punctuation, JSON member names, the time and the three numbers.
constexpr size_t kFixedLineBytes = 256;
// An escaped byte takes at most 6 ("\u001f" in JSON; "\x1f" in text).
constexpr size_t kMaxLineBytes = kFixedLineBytes + 6 * (kMaxTargetBytes + 5 * kMaxFieldBytes);
constexpr size_t kBlockBytes = kAccessLogChunkBytes + kMaxLineBytes;
// Written blocks' arrays kept for reuse (each kBlockBytes, ~128 KiB).
constexpr size_t kMaxSpareBlocks = 16;
// Blocks per writev(2) (IOV_MAX is 1024).
constexpr size_t kMaxBlocksPerWrite = 64;

// Every line, whatever the generator draws.
constexpr uint64_t kSampleAll = std::numeric_limits<uint64_t>::max();
// Seeds the per-thread generators (each thread's is this plus its buffer's
// index, mixed), so that a test's sampling is the same run after run.
constexpr uint64_t kSampleSeed = 0x7e3c0a11;

std::atomic<uint64_t> g_next_log_id{1};

// The buffer this thread used last, and whose it is: a thread almost always
// writes to one AccessLog, so finding its buffer is one comparison.
struct LocalBuffer {
  uint64_t log_id = 0;  // 0: none
  void* buffer = nullptr;
};
thread_local LocalBuffer t_local;

// splitmix64: a seed spread over all 64 bits, and the generator's step.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Result<uint64_t> SampleThreshold(double sample) {
  if (!(sample >= 0.0 && sample <= 1.0)) {  // NaN too
    return Status::InvalidArgument("access log sample " + std::to_string(sample) +
                                   ": expected a fraction from 0 to 1");
  }
  if (sample >= 1.0) return kSampleAll;
  // 2^64 * sample, below kSampleAll for every sample < 1.
  return std::min<uint64_t>(static_cast<uint64_t>(std::ldexp(sample, 64)), kSampleAll - 1);
}

// Which bytes a field may hold as they are: printable ASCII but '"' and '\'
// in text; the same plus space and DEL in JSON (where only the other control
// characters and bytes that may not be UTF-8 need the slow path).
enum class Plain { kText, kJson };

// Whether every byte of `s` may be copied as is, 8 bytes at a time (SWAR:
// a per-byte loop over the target was a third of a line's cost).
template <Plain kind>
bool IsPlain(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  // Non-zero when a byte of x is below n (n <= 128), or equal to c.
  const auto below = [](uint64_t x, uint64_t n) { return (x - kOnes * n) & ~x & kHigh; };
  const auto equal = [&](uint64_t x, uint64_t c) { return below(x ^ (kOnes * c), 1); };
  const auto plain_byte = [](unsigned char c) {
    const unsigned char first = kind == Plain::kText ? 0x21 : 0x20;
    const unsigned char last = kind == Plain::kText ? 0x7e : 0x7f;
    return c >= first && c <= last && c != '"' && c != '\\';
  };
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    uint64_t bad = (x & kHigh) | equal(x, '"') | equal(x, '\\');
    if constexpr (kind == Plain::kText) {
      bad |= below(x, 0x21) | equal(x, 0x7f);
    } else {
      bad |= below(x, 0x20);
    }
    if (bad != 0) return false;
  }
  for (; n > 0; ++p, --n) {
    if (!plain_byte(static_cast<unsigned char>(*p))) return false;
  }
  return true;
}

// Not inlined: GCC would turn the memcpy of a field, whose size it knows
// to be at most kMaxFieldBytes, into `rep movsq`, which costs ~30 cycles to
// start on every field (60% of PutText in perf); libc's memcpy does not.
[[gnu::noinline]] char* Put(char* p, std::string_view s) {
  if (s.empty()) return p;  // an empty view's data() may be null, which memcpy may not take
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// A literal's bytes, copied inline.
template <size_t N>
char* Put(char* p, const char (&literal)[N]) {
  std::memcpy(p, literal, N - 1);
  return p + N - 1;
}

char* PutInt(char* p, int64_t v) { return std::to_chars(p, p + 20, v).ptr; }
char* PutUint(char* p, uint64_t v) { return std::to_chars(p, p + 20, v).ptr; }

// A text field, cut to `max` bytes: bytes outside printable ASCII, '"' and
// '\' as \xHH (nginx's escaping); "-" when empty.
char* PutText(char* p, std::string_view s, size_t max) {
  s = s.substr(0, max);
  if (s.empty()) {
    *p++ = '-';
    return p;
  }
  if (IsPlain<Plain::kText>(s)) return Put(p, s);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
      *p++ = static_cast<char>(c);
    } else {
      *p++ = '\\';
      *p++ = 'x';
      *p++ = kHex[c >> 4];
      *p++ = kHex[c & 0xf];
    }
  }
  return p;
}

// A JSON string, cut to `max` bytes (a cut UTF-8 sequence becomes U+FFFD).
char* PutJson(char* p, std::string_view s, size_t max) {
  s = s.substr(0, max);
  if (IsPlain<Plain::kJson>(s)) {
    *p++ = '"';
    p = Put(p, s);
    *p++ = '"';
    return p;
  }
  thread_local std::string escaped;
  escaped.clear();
  AppendLogJsonString(s, &escaped);
  return Put(p, escaped);
}

char* PutTextLine(const AccessRecord& r, char* p) {
  FormatLogTime(r.time, p);
  p += kLogTimeBytes;
  *p++ = ' ';
  p = PutText(p, r.request_id, kMaxFieldBytes);
  *p++ = ' ';
  p = PutText(p, r.client_address, kMaxFieldBytes);
  p = Put(p, " \"");
  p = PutText(p, r.method, kMaxFieldBytes);
  *p++ = ' ';
  p = PutText(p, r.target, kMaxTargetBytes);
  p = Put(p, "\" ");
  p = PutInt(p, r.status);
  *p++ = ' ';
  p = PutUint(p, r.bytes);
  *p++ = ' ';
  p = PutText(p, r.tier, kMaxFieldBytes);
  *p++ = ' ';
  p = PutInt(p, r.duration_us);
  p = Put(p, "us");
  if (!r.traceparent.empty()) {
    p = Put(p, " traceparent=");
    p = PutText(p, r.traceparent, kMaxFieldBytes);
  }
  *p++ = '\n';
  return p;
}

char* PutJsonLine(const AccessRecord& r, char* p) {
  p = Put(p, "{\"time\":\"");
  FormatLogTime(r.time, p);
  p += kLogTimeBytes;
  p = Put(p, "\",\"request_id\":");
  p = PutJson(p, r.request_id, kMaxFieldBytes);
  p = Put(p, ",\"client\":");
  p = PutJson(p, r.client_address, kMaxFieldBytes);
  p = Put(p, ",\"method\":");
  p = PutJson(p, r.method, kMaxFieldBytes);
  p = Put(p, ",\"target\":");
  p = PutJson(p, r.target, kMaxTargetBytes);
  p = Put(p, ",\"status\":");
  p = PutInt(p, r.status);
  p = Put(p, ",\"bytes\":");
  p = PutUint(p, r.bytes);
  if (!r.tier.empty()) {
    p = Put(p, ",\"tier\":");
    p = PutJson(p, r.tier, kMaxFieldBytes);
  }
  p = Put(p, ",\"duration_us\":");
  p = PutInt(p, r.duration_us);
  if (!r.traceparent.empty()) {
    p = Put(p, ",\"traceparent\":");
    p = PutJson(p, r.traceparent, kMaxFieldBytes);
  }
  p = Put(p, "}\n");
  return p;
}

std::unique_ptr<char[]> NewBlockData() {
  return std::unique_ptr<char[]>(new char[kBlockBytes]);  // uninitialized: written before read
}

Result<int> OpenFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Status::IOError("access log " + path +
                           ": cannot open for writing: " + std::strerror(errno));
  }
  return fd;
}

}  // namespace

// One serving thread's lines. Only its thread appends; the writer takes the
// block every kAccessLogFlushInterval, so `mu` is all but uncontended.
struct AccessLog::ThreadBuffer {
  explicit ThreadBuffer(std::thread::id owner, uint64_t seed) : owner(owner), rng(seed) {}

  const std::thread::id owner;
  uint64_t rng;  // the sampling generator's state; only the owner uses it
  Mutex mu;
  Block block GUARDED_BY(mu);  // data is null until the next line needs it
};

Result<std::unique_ptr<AccessLog>> AccessLog::Open(std::string_view where, double sample,
                                                   LogFormat format) {
  if (where.empty()) {
    return Status::InvalidArgument("access log: expected off, stderr or a file path");
  }
  if (where == "off") return std::unique_ptr<AccessLog>();
  auto threshold = SampleThreshold(sample);
  if (!threshold.ok()) return threshold.status();
  if (format > LogFormat::kJson) return Status::InvalidArgument("access log: format out of range");
  if (where == "stderr") {
    return std::unique_ptr<AccessLog>(
        new AccessLog("stderr", STDERR_FILENO, /*owns_fd=*/false, *threshold, format));
  }
  std::string path(where);
  auto fd = OpenFile(path);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<AccessLog>(
      new AccessLog(std::move(path), *fd, /*owns_fd=*/true, *threshold, format));
}

AccessLog::AccessLog(std::string where, int fd, bool owns_fd, uint64_t sample_threshold,
                     LogFormat format)
    : id_(g_next_log_id.fetch_add(1)),
      where_(std::move(where)),
      owns_fd_(owns_fd),
      sample_threshold_(sample_threshold),
      format_(format),
      fd_(fd) {
  writer_ = std::thread([this] { Run(); });
}

AccessLog::~AccessLog() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  writer_.join();  // its last drain took every block
  MutexLock lock(&io_mu_);
  if (owns_fd_) ::close(fd_);
}

void AccessLog::Write(const AccessRecord& record) {
  ThreadBuffer* buffer =
      t_local.log_id == id_ ? static_cast<ThreadBuffer*>(t_local.buffer) : Register();
  if (!Sampled(buffer)) return;
  Block full;
  {
    MutexLock lock(&buffer->mu);
    Block& block = buffer->block;
    if (block.data == nullptr) block.data = NewBlockData();
    // Room for kMaxLineBytes: block.size < kAccessLogChunkBytes here.
    char* start = block.data.get() + block.size;
    char* end = format_.load(std::memory_order_relaxed) == LogFormat::kJson
                    ? PutJsonLine(record, start)
                    : PutTextLine(record, start);
    block.size += static_cast<size_t>(end - start);
    ++block.lines;
    if (block.size < kAccessLogChunkBytes) return;
    full = std::exchange(block, Block{});
  }
  std::unique_ptr<char[]> next = HandOff(std::move(full));
  MutexLock lock(&buffer->mu);
  if (buffer->block.data == nullptr) buffer->block.data = std::move(next);
}

AccessLog::ThreadBuffer* AccessLog::Register() {
  const std::thread::id self = std::this_thread::get_id();
  MutexLock lock(&mu_);
  ThreadBuffer* found = nullptr;
  for (const auto& buffer : buffers_) {
    if (buffer->owner == self) found = buffer.get();
  }
  if (found == nullptr) {
    uint64_t seed = kSampleSeed + buffers_.size();
    buffers_.push_back(std::make_unique<ThreadBuffer>(self, SplitMix64(&seed)));
    found = buffers_.back().get();
  }
  t_local = {id_, found};
  return found;
}

bool AccessLog::Sampled(ThreadBuffer* buffer) {
  const uint64_t threshold = sample_threshold_.load(std::memory_order_relaxed);
  if (threshold == kSampleAll) return true;
  if (threshold == 0) return false;
  return SplitMix64(&buffer->rng) < threshold;
}

std::unique_ptr<char[]> AccessLog::HandOff(Block full) {
  const uint64_t lines = full.lines;
  bool queued = false;
  bool wake = false;
  std::unique_ptr<char[]> next;
  {
    MutexLock lock(&mu_);
    if (queued_bytes_ + full.size <= kAccessLogMaxPendingBytes) {
      wake =
          queued_bytes_ < kAccessLogWakeBytes && queued_bytes_ + full.size >= kAccessLogWakeBytes;
      queued_bytes_ += full.size;
      queue_.push_back(std::move(full));
      queued = true;
      next = TakeSpare();
    } else {
      next = std::move(full.data);  // dropped: the thread writes over it
    }
  }
  if (wake) wake_.Signal();
  if (!queued) lines_dropped_.fetch_add(lines, std::memory_order_relaxed);
  return next != nullptr ? std::move(next) : NewBlockData();
}

std::unique_ptr<char[]> AccessLog::TakeSpare() {
  if (spares_.empty()) return nullptr;
  std::unique_ptr<char[]> spare = std::move(spares_.back());
  spares_.pop_back();
  return spare;
}

void AccessLog::Run() {
  pthread_setname_np(pthread_self(), kAccessLogThreadName);  // for top -H, perf
  auto next_sweep = std::chrono::steady_clock::now() + kAccessLogFlushInterval;
  for (;;) {
    bool stop = false;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queued_bytes_ < kAccessLogWakeBytes &&
             std::chrono::steady_clock::now() < next_sweep) {
        wake_.WaitUntil(&mu_, next_sweep);
      }
      stop = stopping_;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool sweep = stop || now >= next_sweep;
    Drain(sweep);
    if (stop) return;
    if (sweep) next_sweep = now + kAccessLogFlushInterval;
  }
}

void AccessLog::Flush() { Drain(/*sweep=*/true); }

// The queue and (when sweeping) every partial block are taken under mu_ at
// once: a block a thread hands off later is written by a later drain, after
// its lines taken now, so each thread's lines stay in order.
void AccessLog::Drain(bool sweep) {
  MutexLock io(&io_mu_);
  std::vector<Block> blocks;
  size_t queued_bytes = 0;  // of `blocks`, the part that counts against the bound
  {
    MutexLock lock(&mu_);
    blocks.swap(queue_);
    for (const Block& block : blocks) queued_bytes += block.size;
    if (sweep) {
      for (const auto& buffer : buffers_) {
        MutexLock buffer_lock(&buffer->mu);
        if (buffer->block.lines == 0) continue;
        blocks.push_back(std::exchange(buffer->block, Block{}));
        buffer->block.data = TakeSpare();  // or null: the thread's next line makes one
      }
    }
  }
  WriteBlocks(blocks);
  MutexLock lock(&mu_);
  queued_bytes_ -= queued_bytes;
  for (Block& block : blocks) {
    if (spares_.size() == kMaxSpareBlocks) break;
    spares_.push_back(std::move(block.data));
  }
}

// Writes `blocks` in order, kMaxBlocksPerWrite to a writev(2). On a failed
// write, the lines that did not go out whole are counted as dropped.
void AccessLog::WriteBlocks(const std::vector<Block>& blocks) {
  size_t next = 0;    // the first block not written whole
  size_t offset = 0;  // bytes of blocks[next] written
  while (next < blocks.size()) {
    iovec iov[kMaxBlocksPerWrite];
    int count = 0;
    for (size_t i = next; i < blocks.size() && count < static_cast<int>(kMaxBlocksPerWrite); ++i) {
      const size_t skip = i == next ? offset : 0;
      iov[count++] = {blocks[i].data.get() + skip, blocks[i].size - skip};
    }
    const ssize_t n = ::writev(fd_, iov, count);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (size_t left = static_cast<size_t>(n); left > 0;) {
      const size_t rest = blocks[next].size - offset;
      if (left < rest) {
        offset += left;
        break;
      }
      left -= rest;
      lines_written_.fetch_add(blocks[next].lines, std::memory_order_relaxed);
      ++next;
      offset = 0;
    }
  }
  if (next == blocks.size()) return;
  const int error = errno;
  // The lines that did not go out whole (the first of them may be cut).
  const char* data = blocks[next].data.get();
  const auto done = static_cast<uint64_t>(std::count(data, data + offset, '\n'));
  lines_written_.fetch_add(done, std::memory_order_relaxed);
  uint64_t lost = blocks[next].lines - done;
  for (size_t i = next + 1; i < blocks.size(); ++i) lost += blocks[i].lines;
  lines_dropped_.fetch_add(lost, std::memory_order_relaxed);
  write_error_log_.Log("http", "access log " + where_ + ": write failed (" + std::strerror(error) +
                                   "); " + std::to_string(lost) +
                                   " lines dropped (counted in the dropped lines)");
}

Status AccessLog::Reopen() {
  if (!owns_fd_) return Status::OK();
  auto fd = OpenFile(where_);
  if (!fd.ok()) return fd.status();
  // What was accepted before the call goes to the old (rotated) file.
  Drain(/*sweep=*/true);
  MutexLock io(&io_mu_);
  ::close(std::exchange(fd_, *fd));
  return Status::OK();
}

Status AccessLog::Reconfigure(double sample, LogFormat format) {
  auto threshold = SampleThreshold(sample);
  if (!threshold.ok()) return threshold.status();
  if (format > LogFormat::kJson) return Status::InvalidArgument("access log: format out of range");
  sample_threshold_.store(*threshold, std::memory_order_relaxed);
  format_.store(format, std::memory_order_relaxed);
  return Status::OK();
}

AccessLogStats AccessLog::Stats() const {
  AccessLogStats stats;
  stats.lines_written = lines_written_.load(std::memory_order_relaxed);
  stats.lines_dropped = lines_dropped_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace tempo::http
