// Checking a command's output (output.h).
#include "cli/output.h"

#include <cerrno>
#include <cstring>

namespace tempo::cli {

Status FlushOutput(std::ostream& out, const std::string& name) {
  errno = 0;
  out.flush();
  if (out.good()) return Status::OK();
  // errno tells why when this flush failed; an earlier failed write left none.
  const std::string reason = errno != 0 ? std::strerror(errno) : "write failed";
  return Status::IOError("cannot write " + name + ": " + reason);
}

}  // namespace tempo::cli
