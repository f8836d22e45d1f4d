// A validated layout request: what api::ParseLayoutQuery produces and Select consumes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time.h"

namespace tempo::select {

struct PageRequest {
  int api_version = 2;  // 1 or 2 (from the path)
  std::string tenant;
  std::string channel;
  std::string page_type;
  std::optional<std::string> page_id;     // absent when not given or empty
  std::optional<std::string> visitor_id;  // absent when not given or empty
  // Zone filter items in order of appearance (duplicates allowed); empty = no filter.
  std::vector<std::string> zones;
  // Forced variants (experimentId, variantKey) in order of appearance; for one
  // experiment the first one wins (the consumer applies that rule).
  std::vector<std::pair<std::string, std::string>> variants;
  // t.<name> attributes without the built-ins (rule 9), in order of first
  // appearance; one value = a string, several = a list of strings.
  struct Attribute {
    std::string name;
    std::vector<std::string> values;  // size 1: a string; size > 1: a list
  };
  std::vector<Attribute> attributes;
  // The `at` instant (preview), when given.
  std::optional<UnixNanos> at;
};

}  // namespace tempo::select
