// POSIX file plumbing for the log (file.h).
#include "log/file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace tempo::log {
namespace {

// How long a locker sleeps between tries of a LOCK held by another: about
// what one batch write takes.
constexpr std::chrono::microseconds kLockRetryInterval{200};

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Status ErrnoStatus(std::string_view what, const std::string& path) {
  return Status::IOError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

Result<UniqueFd> OpenFile(const std::string& path, int flags) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus("open", path);
  return UniqueFd(fd);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  auto fd = OpenFile(dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.status();
  if (::fsync(fd->get()) != 0) return ErrnoStatus("fsync", dir);
  return Status::OK();
}

static std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status EnsureDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return SyncDir(Parent(dir));
  if (errno != EEXIST) return ErrnoStatus("mkdir", dir);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("stat", dir);
  if (!S_ISDIR(st.st_mode)) return Status::IOError(dir + " exists and is not a directory");
  return Status::OK();
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  // Unique per process and call, so that two writers never share a temp file.
  static std::atomic<uint64_t> counter{0};
  std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  {
    auto fd = OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!fd.ok()) return fd.status();
    Status s = WriteAll(fd->get(), contents, tmp);
    if (s.ok() && ::fsync(fd->get()) != 0) s = ErrnoStatus("fsync", tmp);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = ErrnoStatus("rename to " + path, tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDir(Parent(path));
}

Status LockExclusive(int fd, const std::string& path,
                     std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Status::OK();
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return ErrnoStatus("flock", path);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("another writer holds " + path);
    }
    std::this_thread::sleep_for(kLockRetryInterval);
  }
}

ScopedUnlock::~ScopedUnlock() { ::flock(fd_, LOCK_UN); }

Result<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::NotFound(path);
    return ErrnoStatus("open", path);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace tempo::log
