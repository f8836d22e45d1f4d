// WarmStart: `tempo serve --warm-from` -- before /readyz turns ready, L1 is
// filled with the slices another instance holds hottest (api/warm.h), read
// from its admin listener's GET /admin/cache/hot or from a file saved from
// it, and loaded from L2, else the origin. Bounded by --warm-timeout-ms:
// then the instance turns ready whatever is loaded. A source that cannot be
// read (a peer down, a bad file) is a logged warning, and the start is cold.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "admin/metrics.h"
#include "api/page_source.h"
#include "api/warm.h"
#include "common/host_port.h"
#include "common/mutex.h"
#include "common/status.h"

namespace tempo::serve {

// Where --warm-from points.
struct WarmSource {
  bool is_url = false;
  HostPort admin;    // is_url: the peer's admin listener
  std::string file;  // otherwise: a saved GET /admin/cache/hot answer
};

// "http://HOST:PORT" (an optional trailing "/") is a peer's admin listener;
// anything else not empty is a file path. InvalidArgument for another
// scheme ("https://" included: the hot list is fetched over plain HTTP) or a
// bad HOST:PORT.
Result<WarmSource> ParseWarmFrom(std::string_view from);

// The hot list `source` holds, at most `max_slices` long: GET
// /admin/cache/hot?n=max_slices on the peer (any answer but 200 is an
// error), or the file. Never waits past `deadline`. IOError or Unavailable
// saying what failed; InvalidArgument for text that is not a hot list.
Result<std::vector<origin::SliceKey>> ReadHotList(const WarmSource& source, size_t max_slices,
                                                  std::chrono::steady_clock::time_point deadline);

struct WarmStartOptions {
  WarmSource source;
  std::string from;  // as given, for logs
  // The hot list asked for (the hottest this many). Default: 10000.
  size_t max_slices = 10'000;
  // The whole warm-up (reading the list and loading) ends this long after
  // Begin. Default: 10 s.
  std::chrono::milliseconds timeout{10'000};
  // Concurrency, each load's bound, and the tenant filter (deadline is set
  // from `timeout`).
  api::WarmOptions warm;
};

class WarmStart final {
 public:
  // Starts the warm-up on a thread of its own. REQUIRES: pages outlives it.
  static std::unique_ptr<WarmStart> Begin(api::PageSource* pages, WarmStartOptions options);
  // Stops starting loads and waits for the thread (a list still being read
  // is waited for, at most until the timeout).
  ~WarmStart();
  WarmStart(const WarmStart&) = delete;
  WarmStart& operator=(const WarmStart&) = delete;

  // True once the warm-up has ended (done, failed or timed out); while it
  // runs, false with *why saying how far it got (for /readyz).
  bool Done(std::string* why) const;

  // tempo_warm_slices_total{result="l2"|"origin"|"skipped"|"failed"|"not_tried"}.
  void WriteMetrics(admin::MetricsWriter* out) const;

 private:
  WarmStart(api::PageSource* pages, WarmStartOptions options)
      : pages_(pages), options_(std::move(options)) {}
  void Run();

  api::PageSource* const pages_;
  const WarmStartOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<size_t> listed_{0};
  std::atomic<size_t> progress_{0};
  mutable Mutex mu_;
  api::WarmCounts counts_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace tempo::serve
