// The invalidation message of topic tempo.invalidations.v1 (SPEC §6): after
// each applied batch the sync service publishes one per touched slice, and
// every `tempo serve` evicts that slice from its L1.
//
// Value: {"tenant":T,"channel":C,"pageType":P,"pageId":S,"version":N}, where
// pageId is the slice's scope ("*" = the type-wide slice) and version the
// highest record version applied to the slice in the batch.
// Key: "<tenant>/<channel>/<pageType>", so a partition's messages stay in order.
//
// An operator's drop (`tempo invalidate`, CacheDrop) is another value on the
// same topic: {"drop":{"tenant":T[,"channel":C][,"pageType":P][,"pageId":S]}},
// every slice of the tenant that the fields given match. DecodeInvalidation
// rejects it, so a serve that predates it skips it as malformed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "events/slice_key.h"

namespace tempo::events {

struct Invalidation {
  SliceKey slice;
  int64_t version = 0;
};

// The message key of an invalidation of `slice`: "<tenant>/<channel>/<pageType>".
std::string InvalidationKey(const SliceKey& slice);

// The message value, with every string JSON-escaped.
std::string EncodeInvalidation(const SliceKey& slice, int64_t version);

// Decodes a message value. Strict: one JSON object (fully validated, UTF-8
// included) with "tenant" and "pageType" non-empty strings, "channel" a
// string, "pageId" a non-empty string and "version" an integer in
// 1..2^63-1, each exactly once; unknown fields are ignored so that fields can
// be added later. On failure: InvalidArgument "invalidation: <field>: <reason>".
Result<Invalidation> DecodeInvalidation(std::string_view json);

// An operator's drop of a tenant's cached slices, narrowed by the fields
// that are not empty.
struct CacheDrop {
  std::string tenant;  // non-empty
  std::string channel;
  std::string page_type;
  std::string scope;  // "*" or a pageId (the message's "pageId")
};

// The message key of a drop: the tenant and the fields given, '/'-joined.
std::string CacheDropKey(const CacheDrop& drop);

// The message value of a drop (see the top of this file).
std::string EncodeCacheDrop(const CacheDrop& drop);

// Decodes a drop's message value, as strictly as DecodeInvalidation: one
// object with only "drop", an object with "tenant" a non-empty string and
// "channel", "pageType", "pageId" optional non-empty strings, each at most
// once. On failure: InvalidArgument "drop: <field>: <reason>".
Result<CacheDrop> DecodeCacheDrop(std::string_view json);

}  // namespace tempo::events
