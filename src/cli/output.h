// Checking what a command wrote to its output: a full disk or `> /dev/full`
// must fail the command, not pass silently.
#pragma once

#include <ostream>
#include <string>

#include "common/status.h"

namespace tempo::cli {

// Flushes `out` and checks that everything written to it arrived. IOError
// "cannot write NAME: reason" when this flush or an earlier write failed.
// `name` is the file's path, or "stdout".
Status FlushOutput(std::ostream& out, const std::string& name);

}  // namespace tempo::cli
