// ECMAScript pattern -> RE2 pattern translation (see regex.h for the rules).
#include "cond/regex.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "cond/js_string.h"

namespace tempo::cond {
namespace {

using Range = std::pair<uint32_t, uint32_t>;

constexpr uint32_t kFirstSurrogate = 0xD800;
constexpr uint32_t kLastSurrogate = 0xDFFF;
constexpr uint32_t kFirstLowSurrogate = 0xDC00;
constexpr uint32_t kLastBmp = 0xFFFF;
// JavaScript (non-Unicode) regexes see strings as UTF-16 code units, so a
// character outside the BMP is two units that `.`, classes and quantifiers
// treat separately. RE2 sees code points; to keep JavaScript's meaning, each
// surrogate unit D800..DFFF is spelled as one code point of the
// Supplementary Private Use Area-A, F0000..F07FF (monotonic, so unit ranges
// stay ranges), in the pattern and in the subject alike.
constexpr uint32_t kSurrogateStandIn = 0xF0000;
// With "i", characters RE2 would fold with others but JavaScript does not are
// spelled as 0x100000 + cp (Supplementary Private Use Area-B), which RE2
// folds with nothing. Found by comparing, for every BMP character, RE2's
// (?i) matches with JavaScript's Canonicalize() (toUpperCase, but never a
// non-ASCII character to ASCII or to more than one unit).
constexpr uint32_t kFoldExceptionStandIn = 0x100000;
constexpr Range kFoldExceptions[] = {
    {0x17F, 0x17F},   {0x3F4, 0x3F4},   {0x1E9E, 0x1E9E}, {0x1F80, 0x1FAF},
    {0x1FB3, 0x1FB3}, {0x1FBC, 0x1FBC}, {0x1FC3, 0x1FC3}, {0x1FCC, 0x1FCC},
    {0x1FF3, 0x1FF3}, {0x1FFC, 0x1FFC}, {0x2126, 0x2126}, {0x212A, 0x212B},
};
// Bounds the memory one compiled pattern may take (RE2's own default).
constexpr int64_t kRegexMaxMemBytes = 8 << 20;

// JavaScript's \s: WhiteSpace and LineTerminator.
const std::vector<Range>& JsSpaceRanges() {
  static const std::vector<Range> kRanges = {
      {0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
      {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF},
  };
  return kRanges;
}

// Every code unit but `ranges` (sorted, disjoint).
std::vector<Range> Complement(const std::vector<Range>& ranges) {
  std::vector<Range> out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : ranges) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kLastBmp) out.emplace_back(next, kLastBmp);
  return out;
}

bool IsDecimal(char c) { return c >= '0' && c <= '9'; }
bool IsOctal(char c) { return c >= '0' && c <= '7'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiAlnum(uint32_t c) {
  return c < 0x80 && (IsAsciiLetter(static_cast<char>(c)) || IsDecimal(static_cast<char>(c)));
}
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool IsSurrogate(uint32_t cp) { return cp >= kFirstSurrogate && cp <= kLastSurrogate; }
uint32_t StandIn(uint32_t unit) { return kSurrogateStandIn + (unit - kFirstSurrogate); }

void AppendHexCodePoint(uint32_t cp, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  char digits[8];
  int n = 0;
  do {
    digits[n++] = kHex[cp & 0xF];
    cp >>= 4;
  } while (cp != 0);
  out->append("\\x{");
  while (n > 0) out->push_back(digits[--n]);
  out->push_back('}');
}

bool IsFoldException(uint32_t unit) {
  for (const auto& [lo, hi] : kFoldExceptions) {
    if (unit >= lo && unit <= hi) return true;
  }
  return false;
}

// The code point RE2 sees for code unit `unit`.
uint32_t Spelling(uint32_t unit, bool ignore_case) {
  if (IsSurrogate(unit)) return StandIn(unit);
  if (ignore_case && IsFoldException(unit)) return kFoldExceptionStandIn + unit;
  return unit;
}

void AppendRange(uint32_t lo, uint32_t hi, std::string* out) {
  AppendHexCodePoint(lo, out);
  if (hi != lo) {
    out->push_back('-');
    AppendHexCodePoint(hi, out);
  }
}

// Appends class ranges of code units, each unit as Spelling() writes it.
// Stand-ins are offsets of contiguous blocks, so a range stays a range.
void AppendRanges(const std::vector<Range>& ranges, bool ignore_case, std::string* out) {
  std::vector<Range> remapped = {{kFirstSurrogate, kLastSurrogate}};
  if (ignore_case) {
    remapped.insert(remapped.end(), std::begin(kFoldExceptions), std::end(kFoldExceptions));
    std::sort(remapped.begin(), remapped.end());
  }
  for (auto [lo, hi] : ranges) {
    uint32_t next = lo;
    for (const auto& [rlo, rhi] : remapped) {
      if (rhi < next || rlo > hi) continue;
      if (rlo > next) AppendRange(next, rlo - 1, out);
      const uint32_t a = std::max(next, rlo);
      const uint32_t b = std::min(hi, rhi);
      AppendRange(Spelling(a, ignore_case), Spelling(b, ignore_case), out);
      next = b + 1;
    }
    if (next <= hi) AppendRange(next, hi, out);
  }
}

// One element of a character class: a code point range or a class escape.
struct ClassAtom {
  bool is_set = false;
  std::string set;  // RE2 class-body text when is_set
  uint32_t cp = 0;  // a UTF-16 code unit
};

class Translator {
 public:
  Translator(std::string_view pattern, bool ignore_case) : p_(pattern), ignore_case_(ignore_case) {}

  std::optional<std::string> Run() {
    CountGroups();
    while (!AtEnd()) {
      if (!TranslateTerm()) return std::nullopt;
    }
    if (open_groups_ != 0) return std::nullopt;
    if (uses_non_boundary_) {
      // RE2's \B also holds between the bytes of one UTF-8 character, where
      // an unanchored search may start a match. Advance whole characters.
      return "^(?s:.)*?(?:" + out_ + ")";
    }
    return std::move(out_);
  }

 private:
  bool AtEnd() const { return pending_low_unit_ == 0 && i_ >= p_.size(); }
  char Peek(size_t ahead = 0) const { return i_ + ahead < p_.size() ? p_[i_ + ahead] : '\0'; }
  // The next UTF-16 code unit of the pattern: a character outside the BMP
  // yields its high surrogate now and its low surrogate next time.
  uint32_t NextUnit() {
    if (pending_low_unit_ != 0) return std::exchange(pending_low_unit_, 0);
    uint32_t cp = DecodeUtf8(p_, &i_);
    if (cp <= kLastBmp) return cp;
    pending_low_unit_ = kFirstLowSurrogate + ((cp - 0x10000) & 0x3FF);
    return kFirstSurrogate + ((cp - 0x10000) >> 10);
  }

  // The number of capturing groups decides whether \N is a backreference.
  void CountGroups() {
    bool in_class = false;
    for (size_t k = 0; k < p_.size(); ++k) {
      char c = p_[k];
      if (c == '\\') {
        ++k;
      } else if (in_class) {
        if (c == ']') in_class = false;
      } else if (c == '[') {
        in_class = true;
      } else if (c == '(') {
        if (k + 1 >= p_.size() || p_[k + 1] != '?') {
          ++capturing_groups_;
        } else if (k + 2 < p_.size() && p_[k + 2] == '<' && k + 3 < p_.size() && p_[k + 3] != '=' &&
                   p_[k + 3] != '!') {
          ++capturing_groups_;
          has_named_groups_ = true;
        }
      }
    }
  }

  void EmitLiteral(uint32_t unit) {
    const uint32_t spelled = Spelling(unit, ignore_case_);
    if (spelled != unit) {
      AppendHexCodePoint(spelled, &out_);
    } else if (IsAsciiAlnum(unit) || unit >= 0x80) {
      AppendUtf8(unit, &out_);
    } else {
      AppendHexCodePoint(unit, &out_);
    }
  }

  bool TranslateTerm() {
    if (pending_low_unit_ != 0) {
      EmitLiteral(NextUnit());
      can_quantify_ = true;
      return true;
    }
    const char c = Peek();
    switch (c) {
      case '\\':
        return TranslateEscape();
      case '.':
        ++i_;
        out_.append("[^\\n\\r\\x{2028}\\x{2029}]");
        can_quantify_ = true;
        return true;
      case '(':
        return TranslateGroupOpen();
      case ')':
        ++i_;
        if (open_groups_ == 0) return false;
        --open_groups_;
        out_.push_back(')');
        can_quantify_ = true;
        return true;
      case '[':
        if (!TranslateClass()) return false;
        can_quantify_ = true;
        return true;
      case '*':
      case '+':
      case '?':
        if (!can_quantify_) return false;
        ++i_;
        out_.push_back(c);
        TranslateLazySuffix();
        return true;
      case '{': {
        size_t end = 0;
        uint64_t min = 0;
        uint64_t max = 0;
        if (ParseBracedQuantifier(&end, &min, &max)) {
          if (!can_quantify_ || max < min) return false;
          out_.append(p_.substr(i_, end - i_));
          i_ = end;
          TranslateLazySuffix();
          return true;
        }
        ++i_;
        EmitLiteral('{');  // Annex B: a brace that is no quantifier is literal
        can_quantify_ = true;
        return true;
      }
      case '^':
      case '$':
      case '|':
        ++i_;
        out_.push_back(c);
        can_quantify_ = false;
        return true;
      default: {
        EmitLiteral(NextUnit());  // includes a stray '}' or ']' (literal in Annex B)
        can_quantify_ = true;
        return true;
      }
    }
  }

  // After a quantifier: a '?' makes it lazy; nothing may quantify it again.
  void TranslateLazySuffix() {
    if (Peek() == '?') {
      ++i_;
      out_.push_back('?');
    }
    can_quantify_ = false;
  }

  // {n}, {n,} or {n,m} at i_; sets *end past the closing brace.
  bool ParseBracedQuantifier(size_t* end, uint64_t* min, uint64_t* max) {
    constexpr uint64_t kSaturated = 1ull << 40;
    size_t k = i_ + 1;
    auto parse_number = [&](uint64_t* n) {
      size_t start = k;
      *n = 0;
      while (k < p_.size() && IsDecimal(p_[k])) {
        *n = std::min(kSaturated, *n * 10 + static_cast<uint64_t>(p_[k] - '0'));
        ++k;
      }
      return k > start;
    };
    if (!parse_number(min)) return false;
    *max = *min;
    if (k < p_.size() && p_[k] == ',') {
      ++k;
      if (!parse_number(max)) *max = kSaturated;
    }
    if (k >= p_.size() || p_[k] != '}') return false;
    *end = k + 1;
    return true;
  }

  bool TranslateGroupOpen() {
    ++i_;
    can_quantify_ = false;
    ++open_groups_;
    if (Peek() != '?') {
      out_.push_back('(');
      return true;
    }
    if (Peek(1) == ':') {
      i_ += 2;
      out_.append("(?:");
      return true;
    }
    if (Peek(1) != '<' || Peek(2) == '=' || Peek(2) == '!') {
      return false;  // lookahead/lookbehind (unsupported) or a syntax error
    }
    // A named group: RE2 spells it (?P<name>...) and allows word characters.
    i_ += 2;
    size_t name_begin = i_;
    while (!AtEnd() && Peek() != '>') {
      char n = Peek();
      if (!(IsAsciiLetter(n) || n == '_' || (IsDecimal(n) && i_ > name_begin))) return false;
      ++i_;
    }
    if (AtEnd() || i_ == name_begin) return false;
    const std::string_view name = p_.substr(name_begin, i_ - name_begin);
    // JavaScript rejects a repeated group name.
    if (std::find(group_names_.begin(), group_names_.end(), name) != group_names_.end()) {
      return false;
    }
    group_names_.push_back(name);
    out_.append("(?P<");
    out_.append(name);
    out_.push_back('>');
    ++i_;
    return true;
  }

  // Annex B LegacyOctalEscapeSequence, first digit at i_.
  uint32_t ParseLegacyOctal() {
    const size_t max_digits = (p_[i_] <= '3') ? 3 : 2;
    uint32_t v = 0;
    for (size_t n = 0; n < max_digits && !AtEnd() && IsOctal(Peek()); ++n) {
      v = v * 8 + static_cast<uint32_t>(Peek() - '0');
      ++i_;
    }
    return v;
  }

  // \xHH or \uHHHH at i_ (after the backslash). Returns false with i_
  // unchanged when it is an identity escape ('x' or 'u') instead.
  bool ParseHexEscape(uint32_t* unit) {
    const size_t digits = Peek() == 'x' ? 2 : 4;
    if (i_ + digits >= p_.size()) return false;
    uint32_t v = 0;
    for (size_t n = 1; n <= digits; ++n) {
      int h = HexValue(p_[i_ + n]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    i_ += digits + 1;
    *unit = v;
    return true;
  }

  // A CharacterEscape (shared by atoms and classes), i_ after the backslash.
  // Returns false on a syntax error or unsupported escape.
  bool ParseCharacterEscape(bool in_class, uint32_t* cp) {
    const char e = Peek();
    switch (e) {
      case 'f':
        ++i_;
        *cp = '\f';
        return true;
      case 'n':
        ++i_;
        *cp = '\n';
        return true;
      case 'r':
        ++i_;
        *cp = '\r';
        return true;
      case 't':
        ++i_;
        *cp = '\t';
        return true;
      case 'v':
        ++i_;
        *cp = '\v';
        return true;
      case 'c': {
        const char l = Peek(1);
        if (IsAsciiLetter(l) || (in_class && (IsDecimal(l) || l == '_'))) {
          i_ += 2;
          *cp = static_cast<uint32_t>(l) % 32;
          return true;
        }
        *cp = '\\';  // Annex B: "\c" not followed by a letter is a backslash, then "c"
        return true;
      }
      case 'x':
      case 'u':
        if (ParseHexEscape(cp)) return true;
        ++i_;
        *cp = static_cast<uint32_t>(e);
        return true;
      case 'k':
        if (has_named_groups_) return false;  // a named backreference
        ++i_;
        *cp = 'k';
        return true;
      default:
        break;
    }
    if (IsOctal(e)) {
      if (e == '0' && !IsDecimal(Peek(1))) {
        ++i_;
        *cp = 0;
        return true;
      }
      if (!in_class && e != '0') {
        // \N: a backreference when that group exists, else legacy octal.
        size_t k = i_;
        uint64_t n = 0;
        while (k < p_.size() && IsDecimal(p_[k]) && n <= capturing_groups_) {
          n = n * 10 + static_cast<uint64_t>(p_[k] - '0');
          ++k;
        }
        if (n <= capturing_groups_) return false;  // backreferences are unsupported
      }
      *cp = ParseLegacyOctal();
      return true;
    }
    if (!in_class && (e == '8' || e == '9')) {
      size_t k = i_;
      uint64_t n = 0;
      while (k < p_.size() && IsDecimal(p_[k]) && n <= capturing_groups_) {
        n = n * 10 + static_cast<uint64_t>(p_[k] - '0');
        ++k;
      }
      if (n <= capturing_groups_) return false;
    }
    // An identity escape: the character (its first code unit) itself.
    *cp = NextUnit();
    return true;
  }

  bool TranslateEscape() {
    ++i_;  // the backslash
    if (AtEnd()) return false;
    const char e = Peek();
    switch (e) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        ++i_;
        out_.push_back('\\');
        out_.push_back(e);
        can_quantify_ = true;
        return true;
      case 's':
      case 'S':
        ++i_;
        out_.append(e == 's' ? "[" : "[^");
        AppendRanges(JsSpaceRanges(), ignore_case_, &out_);
        out_.push_back(']');
        can_quantify_ = true;
        return true;
      case 'b':
      case 'B':
        ++i_;
        out_.push_back('\\');
        out_.push_back(e);
        uses_non_boundary_ = uses_non_boundary_ || e == 'B';
        can_quantify_ = false;
        return true;
      default:
        break;
    }
    uint32_t cp = 0;
    if (!ParseCharacterEscape(/*in_class=*/false, &cp)) return false;
    EmitLiteral(cp);
    can_quantify_ = true;
    return true;
  }

  // A ClassAtom at i_ (not the closing ']').
  bool ParseClassAtom(ClassAtom* atom) {
    if (pending_low_unit_ != 0 || Peek() != '\\') {
      atom->cp = NextUnit();
      return true;
    }
    ++i_;
    if (AtEnd()) return false;
    const char e = Peek();
    switch (e) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        ++i_;
        atom->is_set = true;
        atom->set = std::string("\\") + e;
        return true;
      case 's':
      case 'S':
        ++i_;
        atom->is_set = true;
        AppendRanges(e == 's' ? JsSpaceRanges() : Complement(JsSpaceRanges()), ignore_case_,
                     &atom->set);
        return true;
      case 'b':
        ++i_;
        atom->cp = '\b';
        return true;
      case '-':
        ++i_;
        atom->cp = '-';
        return true;
      default:
        return ParseCharacterEscape(/*in_class=*/true, &atom->cp);
    }
  }

  bool TranslateClass() {
    ++i_;  // '['
    bool negated = false;
    if (Peek() == '^') {
      negated = true;
      ++i_;
    }
    std::vector<Range> ranges;
    std::string sets;
    for (;;) {
      if (AtEnd()) return false;
      if (pending_low_unit_ == 0 && Peek() == ']') {
        ++i_;
        break;
      }
      ClassAtom a;
      if (!ParseClassAtom(&a)) return false;
      if (pending_low_unit_ == 0 && Peek() == '-' && Peek(1) != ']' && i_ + 1 < p_.size()) {
        ++i_;  // '-'
        ClassAtom b;
        if (!ParseClassAtom(&b)) return false;
        if (a.is_set || b.is_set) {
          // Annex B: a range with a class escape on one side is a union with '-'.
          for (const ClassAtom* x : {&a, &b}) {
            if (x->is_set) {
              sets.append(x->set);
            } else {
              ranges.emplace_back(x->cp, x->cp);
            }
          }
          ranges.emplace_back('-', '-');
          continue;
        }
        if (a.cp > b.cp) return false;
        ranges.emplace_back(a.cp, b.cp);
        continue;
      }
      if (a.is_set) {
        sets.append(a.set);
      } else {
        ranges.emplace_back(a.cp, a.cp);
      }
    }
    std::string body = sets;
    AppendRanges(ranges, ignore_case_, &body);
    if (body.empty()) {
      // [] matches nothing and [^] matches anything.
      out_.append(negated ? "[\\x{0}-\\x{10FFFF}]" : "[^\\x{0}-\\x{10FFFF}]");
      return true;
    }
    out_.push_back('[');
    if (negated) out_.push_back('^');
    out_.append(body);
    out_.push_back(']');
    return true;
  }

  std::string_view p_;
  const bool ignore_case_;
  size_t i_ = 0;
  std::string out_;
  uint64_t capturing_groups_ = 0;
  bool has_named_groups_ = false;
  std::vector<std::string_view> group_names_;
  int open_groups_ = 0;
  bool can_quantify_ = false;
  bool uses_non_boundary_ = false;
  uint32_t pending_low_unit_ = 0;
};

// The text RE2 matches for JavaScript string `text`: `text` itself unless it
// holds characters that have stand-ins, which are rewritten into `storage`.
std::string_view Subject(std::string_view text, bool ignore_case, std::string* storage) {
  bool rewrite = false;
  for (size_t i = 0; i < text.size() && !rewrite; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    // 4-byte sequences (outside the BMP), WTF-8 surrogates (ED A0..BF), and
    // with "i" the lead bytes of the fold exceptions.
    rewrite =
        b >= 0xF0 ||
        (b == 0xED && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0xA0) ||
        (ignore_case && (b == 0xC5 || b == 0xCF || b == 0xE1 || b == 0xE2));
  }
  if (!rewrite) return text;
  storage->clear();
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const uint32_t cp = DecodeUtf8(text, &i);
    if (cp > kLastBmp) {
      AppendUtf8(StandIn(kFirstSurrogate + ((cp - 0x10000) >> 10)), storage);
      AppendUtf8(StandIn(kFirstLowSurrogate + ((cp - 0x10000) & 0x3FF)), storage);
    } else if (const uint32_t spelled = Spelling(cp, ignore_case); spelled != cp) {
      AppendUtf8(spelled, storage);
    } else {
      storage->append(text.substr(start, i - start));
    }
  }
  return *storage;
}

// How every translated pattern is compiled: UTF-8 (stand-ins included), no
// captures (never read), no logging of a pattern RE2 refuses.
re2::RE2::Options Re2Options(bool ignore_case, int64_t max_mem_bytes) {
  re2::RE2::Options options;
  options.set_encoding(re2::RE2::Options::EncodingUTF8);
  options.set_case_sensitive(!ignore_case);
  options.set_never_capture(true);
  options.set_log_errors(false);
  options.set_max_mem(max_mem_bytes);
  return options;
}

}  // namespace

int Re2ErrorCompiling(const std::string& translated, bool ignore_case, int64_t max_mem_bytes) {
  const re2::RE2 re(translated, Re2Options(ignore_case, max_mem_bytes));
  return re.error_code();
}

std::optional<std::string> TranslateEcmaScriptRegex(std::string_view pattern, bool ignore_case) {
  return Translator(pattern, ignore_case).Run();
}

std::shared_ptr<const EcmaScriptRegex> EcmaScriptRegex::Compile(std::string_view pattern,
                                                                bool ignore_case) {
  std::optional<std::string> translated = TranslateEcmaScriptRegex(pattern, ignore_case);
  if (!translated) return nullptr;
  auto re = std::make_unique<re2::RE2>(*translated, Re2Options(ignore_case, kRegexMaxMemBytes));
  if (!re->ok()) return nullptr;
  return std::shared_ptr<const EcmaScriptRegex>(new EcmaScriptRegex(std::move(re), ignore_case));
}

EcmaScriptRegex::EcmaScriptRegex(std::unique_ptr<re2::RE2> re, bool ignore_case)
    : re_(std::move(re)), ignore_case_(ignore_case) {}

EcmaScriptRegex::~EcmaScriptRegex() = default;

size_t EcmaScriptRegex::HeapBytes() const {
  // RE2 instructions are 8-16 bytes; its lazily built DFA states come on top,
  // bounded by the max_mem budget set at compile time.
  constexpr size_t kBytesPerInstruction = 16;
  return sizeof(EcmaScriptRegex) + sizeof(re2::RE2) + re_->pattern().capacity() +
         static_cast<size_t>(re_->ProgramSize()) * kBytesPerInstruction;
}

bool EcmaScriptRegex::Test(std::string_view text) const {
  std::string storage;
  const std::string_view subject = Subject(text, ignore_case_, &storage);
  return re2::RE2::PartialMatch(re2::StringPiece(subject.data(), subject.size()), *re_);
}

}  // namespace tempo::cond
