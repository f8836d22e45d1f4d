// WarmStart: the --warm-from source, read and loaded on a thread.
#include "serve/warm_start.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "common/logging.h"
#include "http/one_get.h"

namespace tempo::serve {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kHttpScheme = "http://";
// The longest hot list read, from a peer or a file: about 150 bytes a slice
// for api::kMaxHotSlices slices, with room.
constexpr uint64_t kMaxHotListBytes = 64 << 20;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxHotListBytes) {
      return Status::IOError(path + " is over " + std::to_string(kMaxHotListBytes) + " bytes");
    }
  }
  if (in.bad()) return Status::IOError("cannot read " + path);
  return text;
}

Result<std::string> FetchHotList(const HostPort& admin, size_t max_slices,
                                 Clock::time_point deadline) {
  const std::string path = "/admin/cache/hot?n=" + std::to_string(max_slices);
  auto get = std::make_unique<http::OneGet>(admin, path, admin.host, deadline, "tempo-warm",
                                            http::OneGetLimits{.max_body_bytes = kMaxHotListBytes});
  std::string error;
  auto answer = get->Get(/*tls=*/nullptr, &error);
  // A step cut off at the deadline may still be pending in a resolver thread
  // that cannot be interrupted: the GET is left undestroyed (a few hundred
  // bytes, once per start) rather than waited for (http/one_get.h).
  if (get->timed_out()) (void)get.release();
  const std::string where = "http://" + admin.host + ":" + std::to_string(admin.port) + path;
  if (!answer) return Status::Unavailable(where + ": " + error);
  if (answer->result_int() != 200) {
    return Status::Unavailable(where + ": answered " + std::to_string(answer->result_int()));
  }
  return std::move(answer->body());
}

}  // namespace

Result<WarmSource> ParseWarmFrom(std::string_view from) {
  WarmSource source;
  if (from.empty()) return Status::InvalidArgument("--warm-from is empty");
  if (from.substr(0, kHttpScheme.size()) == kHttpScheme) {
    std::string_view address = from.substr(kHttpScheme.size());
    if (!address.empty() && address.back() == '/') address.remove_suffix(1);
    auto admin = ParseHostPort(address, /*min_port=*/1);
    if (!admin.ok()) {
      return Status::InvalidArgument("--warm-from " + std::string(from) +
                                     ": expected http://HOST:PORT (another instance's admin "
                                     "listener): " +
                                     admin.status().message());
    }
    source.is_url = true;
    source.admin = std::move(admin).value();
    return source;
  }
  if (from.find("://") != std::string_view::npos) {
    return Status::InvalidArgument("--warm-from " + std::string(from) +
                                   ": give http://HOST:PORT (another instance's admin listener, "
                                   "plain HTTP) or a file saved from its /admin/cache/hot");
  }
  source.file = std::string(from);
  return source;
}

Result<std::vector<origin::SliceKey>> ReadHotList(const WarmSource& source, size_t max_slices,
                                                  Clock::time_point deadline) {
  Result<std::string> text =
      source.is_url ? FetchHotList(source.admin, max_slices, deadline) : ReadFile(source.file);
  if (!text.ok()) return text.status();
  auto slices = api::ParseHotList(*text, max_slices);
  if (!slices.ok()) {
    const std::string where = source.is_url ? "the peer's hot list" : source.file;
    return Status::InvalidArgument(where + ": " + slices.status().message());
  }
  return slices;
}

std::unique_ptr<WarmStart> WarmStart::Begin(api::PageSource* pages, WarmStartOptions options) {
  std::unique_ptr<WarmStart> warm(new WarmStart(pages, std::move(options)));
  warm->thread_ = std::thread([w = warm.get()] { w->Run(); });
  return warm;
}

WarmStart::~WarmStart() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void WarmStart::Run() {
  const Clock::time_point started = Clock::now();
  const Clock::time_point deadline = started + options_.timeout;
  auto slices = ReadHotList(options_.source, options_.max_slices, deadline);
  if (!slices.ok()) {
    Log(LogLevel::kWarn, "warm",
        "--warm-from " + options_.from + ": " + slices.status().message() +
            "; starting cold (L1 fills from requests)");
    done_.store(true);
    return;
  }
  listed_.store(slices->size());
  api::WarmOptions warm = options_.warm;
  warm.deadline = deadline;
  const api::WarmCounts counts = api::WarmSlices(pages_, *slices, warm, &stop_, &progress_);
  {
    MutexLock lock(&mu_);
    counts_ = counts;
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  const bool cut = counts.not_tried > 0;
  Log(cut || counts.failed > 0 ? LogLevel::kWarn : LogLevel::kInfo, "warm",
      "--warm-from " + options_.from + ": " + std::to_string(slices->size()) + " slices listed, " +
          std::to_string(counts.from_l2) + " loaded from L2, " +
          std::to_string(counts.from_origin) + " from the origin, " +
          std::to_string(counts.skipped) + " skipped (in L1 already, or another tenant group's), " +
          std::to_string(counts.failed) + " failed, " + std::to_string(counts.not_tried) +
          " not tried" + (cut ? " (--warm-timeout-ms passed)" : "") + " in " + std::to_string(ms) +
          " ms");
  done_.store(true);
}

bool WarmStart::Done(std::string* why) const {
  if (done_.load()) return true;
  const size_t listed = listed_.load();
  if (listed == 0) {
    *why = "warming: reading the hot list of --warm-from " + options_.from;
    return false;
  }
  *why = "warming: " + std::to_string(progress_.load()) + " of " + std::to_string(listed) +
         " slices from --warm-from " + options_.from + " (at most --warm-timeout-ms " +
         std::to_string(options_.timeout.count()) + ")";
  return false;
}

void WarmStart::WriteMetrics(admin::MetricsWriter* out) const {
  api::WarmCounts counts;
  {
    MutexLock lock(&mu_);
    counts = counts_;
  }
  static constexpr std::string_view kHelp =
      "Slices of the --warm-from hot list by what the warm-up did with them";
  const std::pair<const char*, size_t> results[] = {{"l2", counts.from_l2},
                                                    {"origin", counts.from_origin},
                                                    {"skipped", counts.skipped},
                                                    {"failed", counts.failed},
                                                    {"not_tried", counts.not_tried}};
  for (const auto& [result, n] : results) {
    out->Counter("tempo_warm_slices_total", kHelp, n, {{"result", result}});
  }
}

}  // namespace tempo::serve
