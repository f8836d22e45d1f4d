// Status and Result<T>: how every component reports an expected failure.
//
// A Status is either OK or a code with a human-readable message. Result<T>
// holds a value or a non-OK Status. Neither throws; callers must check ok().
// Both are [[nodiscard]]: a result ignored without saying why (a `(void)`
// cast with a comment) is a compile error.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tempo {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // the input is malformed; retrying will not help
    kNotFound,         // the thing asked for does not exist
    kIOError,          // a file or socket failed
    kCorruption,       // stored bytes are not what we wrote
    kUnavailable,      // a dependency cannot answer now; retrying may help
    kInternal,         // a bug: an invariant did not hold
  };

  // An OK status.
  Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // The message given at construction; empty for OK.
  const std::string& message() const { return message_; }
  // "OK" or "<CodeName>: <message>", for logs.
  std::string ToString() const;
  // The same code with another message (to add context or hide a secret);
  // OK stays OK.
  Status WithMessage(std::string msg) const {
    return ok() ? Status() : Status(code_, std::move(msg));
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// A value of type T, or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  // REQUIRES: !status.ok().
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return v_.index() == 0; }
  // The error; OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }

  // REQUIRES: ok(). A wrong access is a debug assertion (and undefined in
  // release builds), never an exception.
  T& value() & {
    assert(ok());
    return *std::get_if<T>(&v_);
  }
  const T& value() const& {
    assert(ok());
    return *std::get_if<T>(&v_);
  }
  T&& value() && {
    assert(ok());
    return std::move(*std::get_if<T>(&v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tempo
