// The access log: one line per answered request, to a file or stderr.
//
// A line in text (fields separated by one space; a field that is empty is "-"):
//
//   2026-12-07T01:14:58.123Z 4f1c9a0e 10.0.0.7:51234 "GET /v1/acme/web/home" 200 1420 L1 57us
//   TIME                     REQUEST_ID CLIENT       "METHOD TARGET"         STATUS BYTES TIER
//   DURATION
//
// followed by " traceparent=<value>" when the request had one. Bytes outside
// printable ASCII, '"' and '\' are written as \xHH (nginx's escaping), so a
// line always splits on spaces into the same fields. In json, one object
// per line (empty tier and traceparent left out; bytes that are not UTF-8
// become U+FFFD):
//
//   {"time":"2026-12-07T01:14:58.123Z","request_id":"4f1c9a0e","client":"10.0.0.7:51234",
//    "method":"GET","target":"/v1/acme/web/home","status":200,"bytes":1420,"tier":"L1",
//    "duration_us":57,"traceparent":"00-..."}
//
// A target longer than the server accepts (8 KiB) or another field longer
// than 512 bytes is cut (the server never passes one).
//
// Write is called by every serving thread for every request, so it never
// waits for a disk or for another serving thread: each thread renders its
// lines straight into its own block (whose mutex no other serving thread
// takes: only the writer thread, for a pointer swap every
// kAccessLogFlushInterval), and hands the block to the writer thread when it
// holds kAccessLogChunkBytes. The writer writes handed blocks as they come,
// and everyone's partial blocks every kAccessLogFlushInterval. Memory is
// bounded: when kAccessLogMaxPendingBytes wait for the disk, a full block is
// dropped and its lines counted in AccessLogStats::lines_dropped (so are
// lines a failed write(2) lost). Lines are whole: they interleave between
// threads only at line boundaries, and each thread's stay in its order.
//
// Cost (bench/access_log_bench.cc, a 2-vCPU VM): 60-70 ns of a serving
// thread's CPU per line, text or json; 3 ns per request sampled out; and
// 40-120 ns of the writer thread's CPU per line for its writev(2) to ext4.
// Requests of ~5.5 us kept 0.99x of their throughput with every one logged.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/time.h"

namespace tempo::http {

// What a line says about one request. Views need to live only during Write.
struct AccessRecord {
  UnixNanos time = 0;               // when the request arrived
  std::string_view request_id;      // X-Request-Id, kept or made
  std::string_view client_address;  // the peer, "IP:PORT"
  std::string_view method;          // as sent ("GET")
  std::string_view target;          // as sent (path?query)
  std::string_view traceparent;     // W3C traceparent; empty when none
  std::string_view tier;            // what answered: "L1", "L2", "origin"; empty when none
  int status = 0;
  uint64_t bytes = 0;       // body bytes sent
  int64_t duration_us = 0;  // from the request's head to its answer
};

struct AccessLogStats {
  uint64_t lines_written = 0;  // written out (write(2) returned)
  // Accepted by Write but never written: the writer fell more than
  // kAccessLogMaxPendingBytes behind (a slow or stuck disk), or a write failed
  // (disk full). Lines sampled out are not counted anywhere.
  uint64_t lines_dropped = 0;
};

// A thread hands its block to the writer at this size: ~450 text lines.
inline constexpr size_t kAccessLogChunkBytes = 64 * 1024;
// The most bytes handed to the writer and not yet written; more are dropped.
inline constexpr size_t kAccessLogMaxPendingBytes = 8 * 1024 * 1024;
// The writer wakes when this much is handed to it (else every
// kAccessLogFlushInterval) and writes it with one writev(2): woken for each
// block, it cost ~4x more CPU a line on a VM (an idle vCPU woken each time).
inline constexpr size_t kAccessLogWakeBytes = 1024 * 1024;
// The longest a line waits in a thread's block before the writer takes it.
inline constexpr std::chrono::milliseconds kAccessLogFlushInterval{100};
// The writer thread's name (top -H, /proc/PID/task/*/comm).
inline constexpr char kAccessLogThreadName[] = "tempo-accesslog";

class AccessLog {
 public:
  // Opens the access log `where`: "off" (returns null: no access log),
  // "stderr", or a file path (created with mode 0640 if missing, appended to).
  // `sample` is the fraction of requests logged, 0 to 1; `format` is the
  // line format. InvalidArgument for an empty `where` or a sample outside
  // [0, 1]; IOError naming the path and the reason when the file cannot be
  // opened for writing. Starts the writer thread.
  static Result<std::unique_ptr<AccessLog>> Open(std::string_view where, double sample,
                                                 LogFormat format);

  // Writes out every line accepted so far, then stops the writer thread.
  // REQUIRES: no Write running or to come.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Logs `record` if the sample takes it (a per-thread generator, seeded per
  // thread, decides, so the fraction holds over many requests). Thread-safe;
  // never blocks on I/O.
  void Write(const AccessRecord& record);

  // Opens the file again by its path and writes to the new one from now on
  // (for log rotation: the file was renamed, then SIGHUP). Lines accepted
  // before the call are written to the old file first; lines written during
  // the call may go to either. Nothing to do for stderr. IOError
  // when the path cannot be opened; the old file stays in use then.
  Status Reopen();

  // Changes the sample and the format for the lines written after it (a
  // SIGHUP reload). InvalidArgument as Open; nothing changes then.
  Status Reconfigure(double sample, LogFormat format);

  // Writes out every line Write accepted before the call, from all threads.
  // Blocks on the disk: for tests and for callers that must see the lines now.
  void Flush();

  // For /metrics.
  AccessLogStats Stats() const;

  // "stderr" or the file's path.
  const std::string& where() const { return where_; }

 private:
  struct ThreadBuffer;
  // Lines, whole, in a fixed array of kBlockBytes (access_log.cc).
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
    uint64_t lines = 0;
  };

  AccessLog(std::string where, int fd, bool owns_fd, uint64_t sample_threshold, LogFormat format);

  ThreadBuffer* Register();
  bool Sampled(ThreadBuffer* buffer);
  // Queues `full` for the writer, or drops it when kAccessLogMaxPendingBytes
  // wait already; returns an empty array for the thread's next lines.
  std::unique_ptr<char[]> HandOff(Block full) LOCKS_EXCLUDED(mu_);
  std::unique_ptr<char[]> TakeSpare() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();
  void Drain(bool sweep) LOCKS_EXCLUDED(io_mu_, mu_);
  void WriteBlocks(const std::vector<Block>& blocks) EXCLUSIVE_LOCKS_REQUIRED(io_mu_);

  const uint64_t id_;  // tells this log's per-thread buffers from another's
  const std::string where_;
  const bool owns_fd_;
  // Write takes a line when its thread's generator draws below this;
  // kSampleAll: every line.
  std::atomic<uint64_t> sample_threshold_;
  std::atomic<LogFormat> format_;
  std::atomic<uint64_t> lines_written_{0};
  std::atomic<uint64_t> lines_dropped_{0};
  LogLimiter write_error_log_{std::chrono::seconds(10), LogLevel::kError};

  // Held while lines are collected and written, so that two drains never
  // reorder a thread's lines. Order: io_mu_, then mu_, then a ThreadBuffer's mu.
  Mutex io_mu_;
  int fd_ GUARDED_BY(io_mu_);

  Mutex mu_;
  CondVar wake_;  // kAccessLogWakeBytes are queued, or stopping_
  std::vector<std::unique_ptr<ThreadBuffer>> buffers_ GUARDED_BY(mu_);  // one per thread, kept
  std::vector<Block> queue_ GUARDED_BY(mu_);  // handed to the writer, in order
  size_t queued_bytes_ GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<char[]>> spares_ GUARDED_BY(mu_);  // written blocks' arrays, reused
  bool stopping_ GUARDED_BY(mu_) = false;

  std::thread writer_;
};

}  // namespace tempo::http
