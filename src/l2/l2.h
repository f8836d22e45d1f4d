// L2: the page-slice cache shared by every Tempo instance (SPEC §8).
//
// An L2 entry holds one slice: the origin rows of one scope of one partition
// (origin::SliceKey), stored in a memcached cluster under the key
// `tempo:<namespace>:<schema>:<tenant>:<channel>:<pageType>:<scope>` (see
// key.h for escaping and the length limit). The serving path reads it on an
// L1 miss and falls through to the origin on an L2 miss or error; it writes
// what it read from the origin back; `tempo sync` deletes the slices it
// touched.
//
// Nodes are chosen by consistent hashing (libketama-compatible ketama, MD5,
// 160 points per node), so adding or losing a node remaps only that node's
// share of the keys. Every network step is bounded by `timeout`. A node that
// fails `failure_limit` times in a row is ejected: its keys map to the other
// nodes (cold there) until `retry_after` has passed, when it is tried again.
// While a node is failing but not yet ejected, calls for its keys fail fast
// with Unavailable and the caller goes to the origin. A node that accepts
// connections but does not answer (hung) is not ejected: after
// `failure_limit` timeouts in a row it is suspended for `retry_after`, during
// which calls for its keys fail fast with Unavailable.
//
// Values carry a header (format version, schema, namespace, slice identity,
// record versions) and an XXH3-64 checksum (value_codec.h): a value that is
// corrupt, from another schema or namespace, or stored for another slice is
// reported as a miss and counted in L2Stats::corrupt, never as an error.
//
// An L2Client is safe for concurrent use by any number of threads: each call
// borrows one connection set from a pool of `pool_size`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "origin/origin.h"

namespace tempo::l2 {

struct L2Options {
  // Memcached nodes as "host:port" ("[v6addr]:port" for IPv6). Required.
  // Every instance of one deployment must list the same nodes (order does not
  // matter) or they will disagree on where a key lives.
  std::vector<std::string> servers;

  // Key namespace: instances with different namespaces never read each
  // other's entries. Give each runtime generation (release) its own.
  // Non-empty; escaped like the other key components.
  std::string ns = "default";

  // Version of the slice layout the serving code expects; part of the key
  // and of the value header. Bump it when the meaning of rows changes.
  int schema = 1;

  // Bound on connecting to a node and on each wait for it to read or write.
  std::chrono::milliseconds timeout{5};

  // How long a failing node is left alone before it is tried again, and how
  // long an ejected node stays out of the hash ring. libmemcached counts in
  // whole seconds: rounded up to at least 1 s.
  std::chrono::milliseconds retry_after{1000};

  // Consecutive failed connection attempts (each at least `retry_after`
  // apart) after which a node is ejected from the ring, and consecutive
  // timeouts after which a hung node is suspended. 1 acts at the first
  // failure: fastest recovery from a dead node, but one slow reply also
  // takes a healthy node out for `retry_after`.
  int failure_limit = 2;

  // Expiry of every entry; bounds how long an entry written while a node was
  // ejected may be served after it returns. At most 30 days.
  std::chrono::seconds ttl{300};

  // Connections sets kept (one per concurrent call). A call that finds all in
  // use fails at once with Unavailable instead of queueing.
  size_t pool_size = 64;

  // Encoded values larger than this are not stored (Set returns
  // InvalidArgument). memcached's default item limit is 1 MiB.
  size_t max_value_bytes = 1000 * 1000;
};

// Counters since Open; each a monotonically increasing total.
struct L2Stats {
  uint64_t hits = 0;      // Get found a valid value
  uint64_t misses = 0;    // Get found nothing (including corrupt values)
  uint64_t corrupt = 0;   // Get found a value that failed to decode (a miss too)
  uint64_t errors = 0;    // a call failed: timeout, node down, pool exhausted
  uint64_t sets = 0;      // values stored (by Set or Add)
  uint64_t adds_existing = 0;  // Add found a value already there and kept it
  uint64_t deletes = 0;   // Delete calls answered (found or not)
  uint64_t oversize = 0;  // Set refused: encoded value over max_value_bytes
};

class L2Client {
 public:
  // Validates `options` and prepares the client; connects lazily, so it
  // succeeds while nodes are down. InvalidArgument names the bad option.
  static Result<std::unique_ptr<L2Client>> Open(const L2Options& options);

  virtual ~L2Client() = default;

  // The slice's rows (in the order Set stored them, each with
  // scope == slice.scope), or nullopt on a miss: absent, expired, or
  // undecodable (counted in corrupt). Unavailable when the node for this key
  // did not answer in time or is out of service.
  virtual Result<std::optional<std::vector<origin::Row>>> Get(const origin::SliceKey& slice) = 0;

  // Stores `rows` as the slice's value for `ttl`. InvalidArgument when a row's
  // scope is not slice.scope or the value is over max_value_bytes;
  // Unavailable when the node did not answer.
  virtual Status Set(const origin::SliceKey& slice, const std::vector<origin::Row>& rows) = 0;

  // Stores `rows` only when the slice has no value (memcached add): how a
  // reader fills L2 after an origin read, so that it never overwrites a newer
  // value `tempo sync` has written meanwhile. OK when stored and when a value
  // was already there (counted in adds_existing); errors as Set.
  virtual Status Add(const origin::SliceKey& slice, const std::vector<origin::Row>& rows) = 0;

  // Removes the slice's value; OK whether or not there was one. Unavailable
  // when the node did not answer (the entry may then live until its ttl).
  virtual Status Delete(const origin::SliceKey& slice) = 0;

  virtual L2Stats Stats() const = 0;
};

// One memcached node address.
struct ServerAddress {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  uint16_t port = 0;
};

// Parses "host:port" or "[v6addr]:port"; InvalidArgument says what is wrong.
Result<ServerAddress> ParseServer(std::string_view server);

// Splits a comma-separated list ("host:port,host:port", spaces around entries
// allowed) and validates every entry with ParseServer; returns the trimmed
// entries. InvalidArgument for an empty list, an empty entry or a bad entry.
Result<std::vector<std::string>> ParseServerList(std::string_view list);

}  // namespace tempo::l2
