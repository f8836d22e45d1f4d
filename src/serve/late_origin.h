// LateOrigin: a store reader that may be opened after the process started.
//
// A new `tempo serve` must be able to join during an incident: with
// PostgreSQL unreachable it still starts (L1 empty, but L2 may be warm, and
// the instance turns ready the moment the store answers) instead of exiting,
// which would keep every new instance out until the store is back.
//
// Open() tries `open` once. Success: that origin is returned as is. A
// failure that says the store is unreachable (Unavailable: connection
// refused, a timeout; not a server that answered and refused us: a
// certificate, a password, pg_hba.conf, a missing database or role, which
// waiting cannot cure) returns a LateOrigin that retries `open` on a thread
// of its own every `retry` until it succeeds (logging the outage once and
// the recovery once); every other failure (a bad URI, a missing schema) is
// returned, so a usage error still stops the start. Until the store opens,
// every call fails with Unavailable, saying why; then every call goes to it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "origin/origin.h"

namespace tempo::serve {

using OriginOpener = std::function<Result<std::unique_ptr<origin::Origin>>()>;

// What is known of a store being opened late: whether it is open, and if
// not, why (for /readyz). Thread-safe.
class LateOpening {
 public:
  virtual ~LateOpening() = default;
  virtual bool opened() const = 0;
  // The last failure to open, while not opened.
  virtual std::string Reason() const = 0;
};

// Returns the origin, opened now or later (see the top). When it is a
// LateOrigin, *opening (if not null) is set to it (valid as long as the
// origin); else to null.
Result<std::unique_ptr<origin::Origin>> OpenLate(const OriginOpener& open,
                                                 std::chrono::milliseconds retry,
                                                 const LateOpening** opening);

}  // namespace tempo::serve
