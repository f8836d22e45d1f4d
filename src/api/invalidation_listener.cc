#include "api/invalidation_listener.h"

#include <utility>
#include <vector>

#include "events/invalidation.h"

namespace tempo::api {

InvalidationListener::InvalidationListener(std::unique_ptr<stream::Consumer> consumer,
                                           origin::Origin* origin, PageSource* pages,
                                           InvalidationListenerOptions options)
    : consumer_(std::move(consumer)),
      origin_(origin),
      pages_(pages),
      options_(options),
      thread_([this] { Run(); }) {}

InvalidationListener::~InvalidationListener() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

InvalidationStats InvalidationListener::Stats() const {
  InvalidationStats stats;
  stats.received = received_.load();
  stats.evicted = evicted_.load();
  stats.malformed = malformed_.load();
  stats.drops = drops_.load();
  stats.ignored = ignored_.load();
  stats.poll_failures = poll_failures_.load();
  stats.catch_up_failures = catch_up_failures_.load();
  return stats;
}

bool InvalidationListener::Serves(std::string_view tenant) const {
  return options_.tenant_groups == nullptr || options_.tenant_groups->Serves(tenant);
}

bool InvalidationListener::SleepUnlessStopped(std::chrono::milliseconds pause) {
  const auto until = std::chrono::steady_clock::now() + pause;
  MutexLock lock(&mu_);
  while (!stop_ && cv_.WaitUntil(&mu_, until)) {
  }
  return stop_;
}

void InvalidationListener::CatchUp() {
  if (!origin_->CatchUp().ok()) ++catch_up_failures_;
}

void InvalidationListener::Run() {
  auto last_catch_up = std::chrono::steady_clock::now();
  while (!stop_) {
    if (consumer_ == nullptr) {  // no stream: catching up is all there is to do
      if (SleepUnlessStopped(options_.catch_up_every)) break;
      CatchUp();
      continue;
    }
    auto polled = consumer_->Poll(1000, options_.poll_timeout);
    if (!listening_ && consumer_->Lag() >= 0) {
      // The stream is read from here on. Invalidations sent before (while a
      // Kafka group was still joining) were missed: drop what was cached
      // meanwhile, once.
      listening_ = true;
      CatchUp();
      pages_->InvalidateAll();
    }
    const auto now = std::chrono::steady_clock::now();
    if (!polled.ok()) {
      ++poll_failures_;
      SleepUnlessStopped(options_.retry_backoff);
    } else if (!polled->empty()) {
      received_ += polled->size();
      // Catch up first: a slice dropped before the origin sees the write
      // would be reloaded with the old rows.
      CatchUp();
      last_catch_up = now;
      for (const stream::Message& message : *polled) {
        auto invalidation = events::DecodeInvalidation(message.value);
        if (!invalidation.ok()) {
          // An operator's drop (`tempo invalidate`) is the other value here.
          auto drop = events::DecodeCacheDrop(message.value);
          if (!drop.ok()) {
            ++malformed_;
          } else if (!Serves(drop->tenant)) {
            ++ignored_;
          } else {
            ++drops_;
            evicted_ += pages_->InvalidateMatching(
                SliceFilter{drop->tenant, drop->channel, drop->page_type, drop->scope}, nullptr);
          }
          continue;
        }
        if (!Serves(invalidation->slice.partition.tenant)) {
          ++ignored_;
          continue;
        }
        pages_->InvalidateSlice(invalidation->slice.partition, invalidation->slice.scope);
        ++evicted_;
      }
      continue;
    }
    if (std::chrono::steady_clock::now() - last_catch_up >= options_.catch_up_every) {
      CatchUp();
      last_catch_up = std::chrono::steady_clock::now();
    }
  }
}

}  // namespace tempo::api
