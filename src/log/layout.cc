// The embedded log's file layout (layout.h).
#include "log/layout.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <filesystem>

#include "log/file.h"

namespace tempo::log {
namespace {

constexpr size_t kMaxNameBytes = 249;
constexpr size_t kSegmentDigits = 20;
constexpr std::string_view kSegmentSuffix = ".log";
constexpr std::string_view kOffsetSuffix = ".offset";
// Offsets are at most 18 digits, so that parsing cannot overflow.
constexpr size_t kMaxOffsetDigits = 18;

// The base offset a segment file name encodes; -1 for other names.
int64_t ParseSegmentName(std::string_view name) {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() ||
      name.substr(kSegmentDigits) != kSegmentSuffix) {
    return -1;
  }
  int64_t base = 0;
  for (char c : name.substr(0, kSegmentDigits)) {
    if (c < '0' || c > '9' || base > (INT64_MAX - 9) / 10) return -1;
    base = base * 10 + (c - '0');
  }
  return base;
}

// Calls `visit` with the name and type (d_type; DT_UNKNOWN on some file
// systems) of each entry of `path`; nothing when it does not exist.
template <typename Visit>
Status ForEachEntry(const std::string& path, Visit visit) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::OK();
    return ErrnoStatus("opendir", path);
  }
  errno = 0;
  while (struct dirent* e = ::readdir(d)) visit(std::string_view(e->d_name), e->d_type);
  Status s = errno != 0 ? ErrnoStatus("readdir", path) : Status::OK();
  ::closedir(d);
  return s;
}

}  // namespace

Status CheckName(std::string_view what, std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxNameBytes && name != "." && name != "..";
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (ok) return Status::OK();
  return Status::InvalidArgument("bad " + std::string(what) + " name \"" + std::string(name) +
                                 "\": 1-249 characters of [A-Za-z0-9._-], not \".\" or \"..\"");
}

Status PrepareLogDir(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("empty log directory");
  // Parents as needed, then the directory itself with an fsync of its parent.
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Status::IOError("log directory " + dir + ": " + ec.message());
  return EnsureDir(dir);
}

Status CheckLogDirExists(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("empty log directory");
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("log directory " + dir + " does not exist");
    return ErrnoStatus("log directory", dir);
  }
  if (!S_ISDIR(st.st_mode)) return Status::IOError("log directory " + dir + ": not a directory");
  return Status::OK();
}

std::string TopicDir(const std::string& dir, std::string_view topic) {
  return dir + "/" + std::string(topic);
}

std::string LockPath(const std::string& topic_dir) { return topic_dir + "/LOCK"; }

std::string SegmentPath(const std::string& topic_dir, int64_t base_offset) {
  char name[kSegmentDigits + 1];
  std::snprintf(name, sizeof name, "%020" PRId64, base_offset);
  return topic_dir + "/" + name + std::string(kSegmentSuffix);
}

std::string GroupsDir(const std::string& topic_dir) { return topic_dir + "/groups"; }

std::string OffsetPath(const std::string& topic_dir, std::string_view group) {
  return GroupsDir(topic_dir) + "/" + std::string(group) + ".offset";
}

Result<std::vector<int64_t>> ListSegments(const std::string& topic_dir) {
  std::vector<int64_t> bases;
  Status s = ForEachEntry(topic_dir, [&](std::string_view name, unsigned char) {
    int64_t base = ParseSegmentName(name);
    if (base >= 0) bases.push_back(base);
  });
  if (!s.ok()) return s;
  std::sort(bases.begin(), bases.end());
  return bases;
}

bool SegmentExists(const std::string& topic_dir, int64_t base_offset) {
  struct stat st;
  return ::stat(SegmentPath(topic_dir, base_offset).c_str(), &st) == 0;
}

Result<int64_t> ReadCommittedOffset(const std::string& topic_dir, std::string_view group) {
  std::string path = OffsetPath(topic_dir, group);
  auto text = ReadSmallFile(path);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return int64_t{-1};
    return text.status();
  }
  std::string_view digits = *text;
  if (!digits.empty() && digits.back() == '\n') digits.remove_suffix(1);
  int64_t offset = 0;
  bool ok = !digits.empty() && digits.size() <= kMaxOffsetDigits;
  for (char c : digits) {
    ok = ok && c >= '0' && c <= '9';
    offset = offset * 10 + (c - '0');
  }
  if (!ok) return Status::Corruption(path + ": not an offset");
  return offset;
}

Result<std::vector<std::string>> ListGroups(const std::string& topic_dir) {
  std::vector<std::string> groups;
  Status s = ForEachEntry(GroupsDir(topic_dir), [&](std::string_view name, unsigned char) {
    if (name.size() <= kOffsetSuffix.size() || !name.ends_with(kOffsetSuffix)) return;
    name.remove_suffix(kOffsetSuffix.size());
    if (CheckName("group", name).ok()) groups.emplace_back(name);
  });
  if (!s.ok()) return s;
  std::sort(groups.begin(), groups.end());
  return groups;
}

Result<std::vector<std::string>> ListTopics(const std::string& dir) {
  std::vector<std::string> topics;
  Status s = ForEachEntry(dir, [&](std::string_view name, unsigned char type) {
    if (type != DT_DIR && type != DT_UNKNOWN) return;
    if (!CheckName("topic", name).ok()) return;
    struct stat st;
    std::string path = TopicDir(dir, name);
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) topics.emplace_back(name);
  });
  if (!s.ok()) return s;
  std::sort(topics.begin(), topics.end());
  return topics;
}

}  // namespace tempo::log
