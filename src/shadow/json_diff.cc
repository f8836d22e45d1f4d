// JSON value equality with the first difference's JSON Pointer.
#include "shadow/json_diff.h"

#include <algorithm>
#include <utility>

#include "common/json.h"

namespace tempo::shadow {
namespace {

namespace dom = simdjson::dom;
using Type = dom::element_type;

// Up to this many members an actual object's member is found by a linear
// scan (after trying the position that follows the last match, which is the
// hit when both sides write members in the same order); larger objects are
// looked up in a sorted index, so a shuffled object of n members costs
// n log n, not n^2.
constexpr size_t kLinearScanMembers = 16;

// Longest array index a pointer token is read as (more digits never match).
constexpr size_t kMaxIndexDigits = 18;

bool IsNumber(Type t) { return t == Type::INT64 || t == Type::UINT64 || t == Type::DOUBLE; }

bool EqualNumbers(dom::element a, dom::element b) {
  const Type ta = a.type();
  const Type tb = b.type();
  if (ta != Type::DOUBLE && tb != Type::DOUBLE) {
    // Both integers: exact. simdjson keeps a value in INT64 when it fits, so
    // a UINT64 one is above INT64_MAX.
    if (ta != tb) return false;
    if (ta == Type::INT64) {
      int64_t x = 0, y = 0;
      return !a.get_int64().get(x) && !b.get_int64().get(y) && x == y;
    }
    uint64_t x = 0, y = 0;
    return !a.get_uint64().get(x) && !b.get_uint64().get(y) && x == y;
  }
  double x = 0, y = 0;
  return !a.get_double().get(x) && !b.get_double().get(y) && x == y;
}

void AppendEscapedToken(std::string_view name, std::string* out) {
  for (char c : name) {
    if (c == '~') {
      out->append("~0");
    } else if (c == '/') {
      out->append("~1");
    } else {
      out->push_back(c);
    }
  }
}

std::string Render(dom::element value) { return CutJsonText(simdjson::to_string(value)); }

}  // namespace

std::string CutJsonText(std::string_view json) {
  if (json.size() <= kMaxDiffValueBytes) return std::string(json);
  size_t cut = kMaxDiffValueBytes;
  // Back off to the start of a UTF-8 character so the prefix stays valid.
  while (cut > 0 && (static_cast<unsigned char>(json[cut]) & 0xC0) == 0x80) --cut;
  std::string text(json.substr(0, cut));
  text.append("...(cut)");
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

Result<JsonComparer> JsonComparer::Create(const std::vector<std::string>& ignore) {
  JsonComparer comparer;
  for (const std::string& pointer : ignore) {
    if (!pointer.empty() && pointer.front() != '/') {
      return Status::InvalidArgument("--shadow-ignore \"" + pointer +
                                     "\": a JSON Pointer is empty or starts with '/'");
    }
    Pointer tokens;
    size_t pos = 0;
    while (pos < pointer.size()) {
      const size_t next = std::min(pointer.find('/', pos + 1), pointer.size());
      const std::string_view raw = std::string_view(pointer).substr(pos + 1, next - pos - 1);
      Token token;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '~') {
          token.name.push_back(raw[i]);
        } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
          token.name.push_back(raw[i + 1] == '0' ? '~' : '/');
          ++i;
        } else {
          return Status::InvalidArgument("--shadow-ignore \"" + pointer +
                                         "\": '~' must be followed by 0 or 1");
        }
      }
      token.any = raw == "*";
      if (!token.name.empty() && token.name.size() <= kMaxIndexDigits &&
          std::all_of(token.name.begin(), token.name.end(),
                      [](char c) { return c >= '0' && c <= '9'; }) &&
          (token.name == "0" || token.name.front() != '0')) {
        token.index = std::stoull(token.name);
      }
      tokens.push_back(std::move(token));
      pos = next;
    }
    comparer.ignore_.push_back(std::move(tokens));
  }
  return comparer;
}

bool JsonComparer::Equal(dom::element expected, dom::element actual, JsonDifference* difference) {
  difference_ = difference;
  path_.clear();
  active_.clear();
  members_.clear();
  matched_.clear();
  sorted_.clear();
  for (uint32_t i = 0; i < ignore_.size(); ++i) {
    if (ignore_[i].empty()) return true;  // "" ignores the whole document
    active_.push_back(i);
  }
  return EqualAt(expected, actual, 0, active_.size(), 0);
}

bool JsonComparer::Enter(const Step& step, size_t active, size_t active_end, size_t depth) {
  for (size_t i = active; i < active_end; ++i) {
    const Pointer& pointer = ignore_[active_[i]];
    const Token& token = pointer[depth];
    const bool matches = token.any || (step.is_index ? token.index == step.index
                                                     : std::string_view(token.name) == step.name);
    if (!matches) continue;
    if (pointer.size() == depth + 1) {
      active_.resize(active_end);
      return false;
    }
    active_.push_back(active_[i]);
  }
  path_.push_back(step);
  return true;
}

void JsonComparer::Leave(size_t active_end) {
  path_.pop_back();
  active_.resize(active_end);
}

void JsonComparer::Differ(const dom::element* expected, const dom::element* actual) {
  JsonDifference& d = *difference_;
  d.path.clear();
  for (const Step& step : path_) {
    d.path.push_back('/');
    if (step.is_index) {
      d.path.append(std::to_string(step.index));
    } else {
      AppendEscapedToken(step.name, &d.path);
    }
  }
  d.expected.reset();
  d.actual.reset();
  if (expected != nullptr) d.expected = Render(*expected);
  if (actual != nullptr) d.actual = Render(*actual);
}

bool JsonComparer::EqualAt(dom::element expected, dom::element actual, size_t active,
                           size_t active_end, size_t depth) {
  const Type te = expected.type();
  const Type ta = actual.type();
  bool equal = false;
  if (IsNumber(te) && IsNumber(ta)) {
    equal = EqualNumbers(expected, actual);
  } else if (te != ta) {
    equal = false;
  } else {
    switch (te) {
      case Type::OBJECT: {
        dom::object e, a;
        if (expected.get_object().get(e) || actual.get_object().get(a)) break;
        return EqualObjects(e, a, active, active_end, depth);
      }
      case Type::ARRAY: {
        dom::array e, a;
        if (expected.get_array().get(e) || actual.get_array().get(a)) break;
        return EqualArrays(e, a, active, active_end, depth);
      }
      case Type::STRING: {
        std::string_view e, a;
        equal = !expected.get_string().get(e) && !actual.get_string().get(a) && e == a;
        break;
      }
      case Type::BOOL: {
        bool e = false, a = false;
        equal = !expected.get_bool().get(e) && !actual.get_bool().get(a) && e == a;
        break;
      }
      case Type::NULL_VALUE:
        equal = true;
        break;
      default:  // numbers are handled above
        break;
    }
  }
  if (!equal) Differ(&expected, &actual);
  return equal;
}

bool JsonComparer::EqualObjects(dom::object expected, dom::object actual, size_t active,
                                size_t active_end, size_t depth) {
  const size_t base = members_.size();
  for (auto [key, value] : actual) members_.push_back({key, value});
  const size_t n = members_.size() - base;
  matched_.resize(members_.size(), 0);
  const size_t sorted_base = sorted_.size();
  bool sorted = false;

  // The index (from base) of the first actual member named `key` not yet
  // matched, or n.
  auto find = [&](std::string_view key, size_t guess) -> size_t {
    if (guess < n && !matched_[base + guess] && members_[base + guess].key == key) return guess;
    if (n <= kLinearScanMembers) {
      for (size_t i = 0; i < n; ++i) {
        if (!matched_[base + i] && members_[base + i].key == key) return i;
      }
      return n;
    }
    if (!sorted) {
      sorted = true;
      for (uint32_t i = 0; i < n; ++i) sorted_.push_back(i);
      std::stable_sort(sorted_.begin() + sorted_base, sorted_.end(), [&](uint32_t x, uint32_t y) {
        return members_[base + x].key < members_[base + y].key;
      });
    }
    auto it = std::lower_bound(
        sorted_.begin() + sorted_base, sorted_.begin() + sorted_base + n, key,
        [&](uint32_t i, std::string_view k) { return members_[base + i].key < k; });
    for (; it != sorted_.begin() + sorted_base + n && members_[base + *it].key == key; ++it) {
      if (!matched_[base + *it]) return *it;
    }
    return n;
  };

  size_t guess = 0;
  for (auto [key, value] : expected) {
    if (!Enter({key, 0, false}, active, active_end, depth)) continue;
    const size_t i = find(key, guess);
    if (i == n) {
      Differ(&value, nullptr);
      return false;
    }
    matched_[base + i] = 1;
    guess = i + 1;
    const dom::element other = members_[base + i].value;
    if (!EqualAt(value, other, active_end, active_.size(), depth + 1)) return false;
    Leave(active_end);
  }
  for (size_t i = 0; i < n; ++i) {
    if (matched_[base + i]) continue;
    const Member member = members_[base + i];
    if (!Enter({member.key, 0, false}, active, active_end, depth)) continue;
    Differ(nullptr, &member.value);
    return false;
  }
  members_.resize(base);
  matched_.resize(base);
  sorted_.resize(sorted_base);
  return true;
}

bool JsonComparer::EqualArrays(dom::array expected, dom::array actual, size_t active,
                               size_t active_end, size_t depth) {
  auto e = expected.begin();
  auto a = actual.begin();
  size_t index = 0;
  for (; e != expected.end() && a != actual.end(); ++e, ++a, ++index) {
    if (!Enter({{}, index, true}, active, active_end, depth)) continue;
    if (!EqualAt(*e, *a, active_end, active_.size(), depth + 1)) return false;
    Leave(active_end);
  }
  // One side is longer: its first element not ignored is the difference.
  for (; e != expected.end(); ++e, ++index) {
    if (!Enter({{}, index, true}, active, active_end, depth)) continue;
    const dom::element value = *e;
    Differ(&value, nullptr);
    return false;
  }
  for (; a != actual.end(); ++a, ++index) {
    if (!Enter({{}, index, true}, active, active_end, depth)) continue;
    const dom::element value = *a;
    Differ(nullptr, &value);
    return false;
  }
  return true;
}

}  // namespace tempo::shadow
