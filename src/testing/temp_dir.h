// TempDir: a fresh directory for one test, removed with everything in it.
#pragma once

#include <string>
#include <string_view>

namespace tempo::testing {

// A new, empty directory under $TMPDIR (or /tmp), named `prefix`.XXXXXX,
// removed with its contents when the TempDir is destroyed. Aborts the
// process when the directory cannot be made: no test can run without it.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "tempo_test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory's absolute path, without a trailing '/'.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tempo::testing
