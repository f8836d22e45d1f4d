// L2: the page-slice cache shared by every Tempo instance (SPEC §8).
//
// An L2 entry holds one slice: the origin rows of one scope of one partition
// (origin::SliceKey), stored in a memcached cluster under the key
// `tempo:<namespace>:<schema>:<tenant>:<channel>:<pageType>:<scope>` (see
// key.h for escaping and the length limit). The serving path reads it on an
// L1 miss and falls through to the origin on an L2 miss or error; it writes
// what it read from the origin back with Add (never over a newer value), or
// with Repair where it found a corrupt value; `tempo sync` rewrites the slices
// it touched with Set (slice_rewriter.h).
//
// Nodes are chosen by consistent hashing (libketama-compatible ketama, MD5,
// 160 points per node), so adding or losing a node remaps only that node's
// share of the keys.
//
// Time bound. No call blocks on the network for longer than `timeout` in
// total (MaxCallWait): connecting, sending and waiting for the answer
// together, provided the servers are given as IP addresses and the node
// either answers or goes silent. Two things lie outside it: resolving a host
// name (libmemcached calls getaddrinfo on a pooled connection's first
// connect and after a failed one; a name with several addresses may cost a
// connect wait per address), and a node that keeps sending parts of an answer
// with pauses, each shorter than the remaining wait (each part restarts the
// wait; the call then lasts as long as the transfer).
//
// Failing nodes. A node that refuses connections (down) fails calls at once;
// after `failure_limit` failed connection attempts libmemcached ejects it: its
// keys map to the other nodes (cold there) until `retry_after` has passed,
// when it is tried again. A node that does not answer in time (hung, or a
// host that vanished) is suspended at its first timeout: every call for its
// keys then fails at once with Unavailable, for `retry_after`; then a single
// call probes it (others keep failing fast meanwhile); an answer restores
// it, another timeout suspends it again. Calls already waiting on the node
// when it was suspended finish their own wait; no new call waits. Each
// suspension and each return to service is logged on stderr, once per
// change of state (component "l2", naming the node and why).
//
// Values carry a header (format version, schema, namespace, slice identity,
// record versions) and an XXH3-64 checksum (value_codec.h): a value that is
// corrupt, from another schema or namespace, or stored for another slice is
// reported as a miss and counted in L2Stats::corrupt, never as an error.
// Read also hands back its CAS token, so that the reader can Repair it.
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

#include "common/histogram.h"
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

  // The longest one call may block on the network, connect included (see
  // "Time bound" above and MaxCallWait). On a pooled connection that is
  // already open, the whole of it is the wait for the answer; on a new one,
  // connecting may take half and the answer the rest. At least 2 ms.
  std::chrono::milliseconds timeout{5};

  // How long a suspended (hung) node is left alone before one call probes
  // it, and how long a node whose connections fail is left alone / stays out
  // of the hash ring. The suspension counts in milliseconds; libmemcached's
  // connection back-off in whole seconds (rounded up to at least 1 s).
  std::chrono::milliseconds retry_after{1000};

  // Consecutive failed connection attempts (each at least `retry_after`
  // apart) after which a node is ejected from the ring. 1 acts at the first
  // failure: fastest recovery from a dead node, but one refused connection
  // also takes a healthy node out for `retry_after`. Timeouts do not count
  // here: one timeout suspends a node (see above).
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
  uint64_t hits = 0;                // Get found a valid value
  uint64_t misses = 0;              // Get found nothing (including corrupt values)
  uint64_t corrupt = 0;             // Get found a value that failed to decode (a miss too)
  uint64_t errors = 0;              // a call failed: timeout, node down, pool exhausted
  uint64_t sets = 0;                // values stored (by Set or Add)
  uint64_t adds_existing = 0;       // Add found a value already there and kept it
  uint64_t deletes = 0;             // Delete calls answered (found or not)
  uint64_t oversize = 0;            // Set refused: encoded value over max_value_bytes
  uint64_t suspensions = 0;         // a node went from in service to suspended (timed out)
  uint64_t repairs = 0;             // Repair replaced the corrupt value it was given
  uint64_t repairs_conflicted = 0;  // Repair found the value changed or gone; kept it
  // Durations of the Reads (and Gets) that asked a node: from the request sent to the rows
  // decoded, or to the error (a timeout lands near `timeout`), in kReadLatencyBounds
  // buckets. Calls refused without asking (node suspended, pool exhausted) are not in it;
  // they are errors.
  HistogramSnapshot read_latency;
};

// What Read found under a slice's key.
struct L2Read {
  // The slice's rows, or nullopt on a miss (absent, expired or undecodable).
  std::optional<std::vector<origin::Row>> rows;
  // Nonzero when the miss was a value that failed to decode: the memcached
  // CAS token of that value, for Repair. 0 on a hit and on an absent key.
  uint64_t corrupt_cas = 0;
};

// The longest any L2Client call made with `options` blocks, under the
// conditions of "Time bound" above: options.timeout. A caller with a
// deadline skips L2 when less than this is left.
std::chrono::milliseconds MaxCallWait(const L2Options& options);

class L2Client {
 public:
  // Validates `options` and prepares the client; connects lazily, so it
  // succeeds while nodes are down. InvalidArgument names the bad option.
  static Result<std::unique_ptr<L2Client>> Open(const L2Options& options);

  virtual ~L2Client() = default;

  // The slice's rows (in the order Set stored them, each with
  // scope == slice.scope), or nullopt on a miss: absent, expired, or
  // undecodable (counted in corrupt). Unavailable when the node for this key
  // did not answer in time or is suspended (then at once, without a wait).
  virtual Result<std::optional<std::vector<origin::Row>>> Get(const origin::SliceKey& slice) = 0;

  // As Get, and for an undecodable value also its CAS token
  // (L2Read::corrupt_cas), so that a reader who then reads the origin can
  // Repair it. Counts as Get does.
  virtual Result<L2Read> Read(const origin::SliceKey& slice) = 0;

  // Stores `rows` as the slice's value for `ttl`. InvalidArgument when a row's
  // scope is not slice.scope or the value is over max_value_bytes;
  // Unavailable when the node did not answer.
  virtual Status Set(const origin::SliceKey& slice, const std::vector<origin::Row>& rows) = 0;

  // Stores `rows` only when the slice has no value (memcached add): how a
  // reader fills L2 after an origin read, so that it never overwrites a newer
  // value `tempo sync` has written meanwhile. OK when stored and when a value
  // was already there (counted in adds_existing); errors as Set.
  virtual Status Add(const origin::SliceKey& slice, const std::vector<origin::Row>& rows) = 0;

  // Replaces a corrupt value with `rows`, only if the value is still the one
  // Read saw (memcached CAS with `cas`, a nonzero L2Read::corrupt_cas), so it
  // never overwrites a value another writer stored meanwhile. OK when stored
  // (counted in repairs) and when the value has changed or gone since the
  // Read (counted in repairs_conflicted, nothing stored); InvalidArgument for
  // cas == 0; otherwise errors as Set.
  virtual Status Repair(const origin::SliceKey& slice, const std::vector<origin::Row>& rows,
                        uint64_t cas) = 0;

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
