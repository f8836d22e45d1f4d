// The version of this build of tempo: the release it belongs to and the git
// commit it was built from (`tempo --version`, docs/deploy.md).
//
// Both strings are generated into the build directory (version.cc.in, filled
// by version.cmake on every build, so the commit stays right as HEAD moves;
// the file is rewritten only when it changes). Link `tempo_version`.
#pragma once

#include <string_view>

namespace tempo {

// The release, "MAJOR.MINOR.PATCH": the top-level CMakeLists.txt's project
// VERSION (e.g. "0.16.0"). The Debian package carries the same version.
std::string_view Version();

// The git commit the binary was built from (12 hex digits, more when git
// needs them to be unique), or "unknown" when the source tree was not a git
// checkout (or git was not installed); a build from a source archive can
// name it with -DTEMPO_GIT_COMMIT=<hex>.
std::string_view GitCommit();

}  // namespace tempo
