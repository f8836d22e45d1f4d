// AnswerMemo: the rendered answers of layout queries that repeat, kept per
// serving thread, so that a hot URL is answered without selecting and
// rendering it again.
//
// A layout answer is a pure function of the query's bytes (with the API
// version and whether `at` is honoured), the page's slices and the instant
// (select/select.h). An entry therefore records the serials of the slices it
// was made from (select::PageSlice::serial, never reused) and the span of
// instants over which no schedule of those slices starts or ends
// (select::SelectionStableUntil). A request whose query matches an entry
// still reads its slices from the tiers as any request does (so an
// invalidation, a TTL expiry or a reload is seen exactly as without the
// memo) and uses the entry only when those slices are the entry's and its
// instant lies in the entry's span; otherwise it is answered as usual. So
// the memo changes no answer, byte for byte.
//
// What it holds: per thread that answers, a direct-mapped table of
// `entries` answers (hash of the key → one slot). A query is kept only the
// second time it is asked on that thread while its slot's doorkeeper still
// remembers it (an array of key hashes, four per slot): a stream of
// one-off queries (every visitor's own visitorId) costs a hash and a store
// per request and evicts nothing. Entries hold copies of the body and the
// query, never the slices, so the memo keeps no cache memory alive; its
// size is bounded by `entries` × the largest answers per thread.
//
// Thread-safety: every method works on the calling thread's own table; an
// instance may be used by any number of threads without locking. A thread
// holds one table at a time: using a second instance on it clears the
// first's (tests that create several services are correct, only colder).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/page_source.h"
#include "common/time.h"
#include "origin/origin.h"

namespace tempo::api {

class AnswerMemo {
 public:
  // What identifies an answer besides the slices and the instant.
  struct Key {
    int api_version = 2;
    bool preview = false;    // `at` honoured
    std::string_view query;  // the raw query string, as received
  };

  // A memoized 200 answer and what it was made from.
  struct Entry {
    // From the parsed query: what a request needs to reach its slices and
    // its tenant's limit without parsing the query again.
    std::string tenant;
    origin::PartitionKey partition;
    std::optional<std::string> page_id;
    std::optional<UnixNanos> at;  // the query's `at` (when honoured)
    uint64_t type_serial = 0;
    uint64_t page_serial = 0;  // 0: no page slice
    // The instants at which the selection is the one rendered: valid_from
    // itself (the answer was made there) and [valid_from, valid_until);
    // until == from when a schedule starts or ends exactly at valid_from.
    UnixNanos valid_from = 0;
    UnixNanos valid_until = 0;
    std::string body;
    std::string etag;

    // True when `slices` are the ones this answer was made from and a
    // request evaluated at `now` (unless the query has `at`) gets it.
    bool AnswersFor(const PageSlices& slices, UnixNanos now) const;
    // Records the slices and the instant `evaluated_at` of a new answer (the
    // rest is filled by the caller).
    void SetSource(const PageSlices& slices, UnixNanos evaluated_at);
  };

  // `entries` per thread; 0 disables the memo (Find and Admit return null).
  explicit AnswerMemo(size_t entries);
  ~AnswerMemo() = default;
  AnswerMemo(const AnswerMemo&) = delete;
  AnswerMemo& operator=(const AnswerMemo&) = delete;

  // This thread's entry for `key`, or null. Valid until the next Admit or
  // Commit on this thread.
  const Entry* Find(const Key& key) const;

  // For a key just answered (Find gave null): the slot to fill when the key
  // is worth keeping (asked before, see the top), else null. The caller
  // fills every field of the entry and then calls Commit with the same key;
  // until then the slot answers nothing.
  Entry* Admit(const Key& key) const;
  void Commit(const Key& key) const;

  size_t entries() const { return entries_; }

 private:
  struct Table;
  // The calling thread's table for this instance (created, or cleared from
  // another instance's, on first use).
  Table* ThisThread() const;

  const size_t entries_;  // a power of two, or 0
  const uint64_t serial_;
};

}  // namespace tempo::api
