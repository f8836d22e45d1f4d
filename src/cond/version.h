// GrowthBook's paddedVersionString(): a version turned into a string whose
// UTF-16 order is the version order ($veq, $vgt, ...).
#pragma once

#include <string_view>

#include "cond/text_buffer.h"
#include "cond/value.h"

namespace tempo::cond {

// Appends paddedVersionString(v) to `out`: numbers become their String(),
// anything else that is not a non-empty string becomes "0"; a leading "v"
// and a "+build" suffix are dropped; the parts split on "-" and "." are
// joined by "-", numeric ones left-padded with spaces to 5 characters, and
// a "~" part is added after exactly three parts (so a release sorts after
// its pre-releases).
void AppendPaddedVersion(const Value& v, TextBuffer* out);

}  // namespace tempo::cond
