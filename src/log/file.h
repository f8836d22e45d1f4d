// POSIX file plumbing for the log: an owned descriptor, errno as a Status,
// whole writes and the fsyncs that make a new name durable.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tempo::log {

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

// IOError "<what> <path>: <strerror(errno)>".
Status ErrnoStatus(std::string_view what, const std::string& path);

// Opens `path` with `flags` (mode 0644 when created).
Result<UniqueFd> OpenFile(const std::string& path, int flags);

// Writes all of `data` at the file position, retrying short writes.
Status WriteAll(int fd, std::string_view data, const std::string& path);

// Fsyncs a directory, making the names created or renamed in it durable.
Status SyncDir(const std::string& dir);

// Creates directory `dir` unless it exists (its parent must exist) and, when
// created, fsyncs the parent. IOError when `dir` exists but is no directory.
Status EnsureDir(const std::string& dir);

// Replaces `path` with `contents` so that a crash leaves either the old or
// the new file: writes a temp file beside it, fsyncs, renames, fsyncs the
// directory.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// Takes an exclusive flock of the open file `fd` (named `path` in errors),
// retrying until `deadline`; then Unavailable "another writer holds PATH".
Status LockExclusive(int fd, const std::string& path,
                     std::chrono::steady_clock::time_point deadline);

// Releases the flock of `fd` when it goes out of scope.
class ScopedUnlock {
 public:
  explicit ScopedUnlock(int fd) : fd_(fd) {}
  ScopedUnlock(const ScopedUnlock&) = delete;
  ScopedUnlock& operator=(const ScopedUnlock&) = delete;
  ~ScopedUnlock();

 private:
  const int fd_;
};

// Reads all of a small file. NotFound when it does not exist.
Result<std::string> ReadSmallFile(const std::string& path);

}  // namespace tempo::log
