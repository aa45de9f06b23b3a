#include "tokenize/pretokenize.h"

#include "tokenize/unicode.h"

namespace llmkit::tokenize {

namespace {

constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kCl100kRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kO200kRegex =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// A view of the text with the class of the code point at a byte offset.
struct Cursor {
  std::string_view t;

  std::size_t size() const { return t.size(); }
  CodePoint at(std::size_t i) const { return decode_at(t, i); }
  std::uint8_t props_at(std::size_t i) const {
    const auto b = static_cast<unsigned char>(t[i]);
    return b < 0x80 ? props(b) : props(decode_at(t, i).c);
  }
  // End of the run of code points whose properties satisfy `pred`,
  // starting at `i`. ASCII bytes skip decoding: the hot loop of English
  // and code (bench/tokenize_bench.cpp).
  template <class Pred>
  std::size_t run(std::size_t i, Pred pred) const {
    const auto* p = reinterpret_cast<const unsigned char*>(t.data());
    const std::size_t n = t.size();
    while (i < n) {
      const unsigned char b = p[i];
      if (b < 0x80) {
        if (!pred(kAsciiProps[b])) break;
        ++i;
        continue;
      }
      const CodePoint cp = decode_at(t, i);
      if (!pred(props(cp.c))) break;
      i += cp.len;
    }
    return i;
  }
};

bool is_newline(char32_t c) {
  return c == '\r' || c == '\n';
}

// Does the code point at i match contraction letter `lower`? Case-
// insensitive matching follows Unicode simple case folding, so "'ſ"
// (U+017F) is "'s" under (?i), as in tiktoken's regex engine.
std::size_t letter_len(const Cursor& c, std::size_t i, char lower, bool fold) {
  if (i >= c.size()) return 0;
  const CodePoint cp = c.at(i);
  if (cp.c == static_cast<char32_t>(lower)) return cp.len;
  if (!fold) return 0;
  if (cp.c == static_cast<char32_t>(lower - 'a' + 'A')) return cp.len;
  const char32_t* extra = nullptr;
  switch (lower) {
    case 's':
      extra = kFold_s;
      break;
    case 't':
      extra = kFold_t;
      break;
    case 'r':
      extra = kFold_r;
      break;
    case 'e':
      extra = kFold_e;
      break;
    case 'v':
      extra = kFold_v;
      break;
    case 'm':
      extra = kFold_m;
      break;
    case 'l':
      extra = kFold_l;
      break;
    case 'd':
      extra = kFold_d;
      break;
    default:
      return 0;
  }
  for (; *extra != 0; ++extra) {
    if (cp.c == *extra) return cp.len;
  }
  return 0;
}

// Length in bytes of 's|'t|'re|'ve|'m|'ll|'d at i, or 0.
std::size_t contraction_len(const Cursor& c, std::size_t i, bool fold) {
  if (i >= c.size() || c.t[i] != '\'') return 0;
  const std::size_t j = i + 1;
  for (const char one : {'s', 't', 'm', 'd'}) {
    if (const std::size_t n = letter_len(c, j, one, fold)) return 1 + n;
  }
  static constexpr char kTwo[][2] = {{'r', 'e'}, {'v', 'e'}, {'l', 'l'}};
  for (const auto& two : kTwo) {
    if (const std::size_t a = letter_len(c, j, two[0], fold)) {
      if (const std::size_t b = letter_len(c, j + a, two[1], fold)) return 1 + a + b;
    }
  }
  return 0;
}

// The three whitespace alternatives shared by cl100k and o200k, tried in
// order: \s*[\r\n]+ | \s+(?!\S) | \s+ . `i` is at a White_Space code point.
std::size_t whitespace_piece(const Cursor& c, std::size_t i, bool newline_alternative) {
  std::size_t j = i;
  std::size_t last_start = i;
  std::size_t after_last_newline = 0;
  std::size_t chars = 0;
  while (j < c.size()) {
    const CodePoint cp = c.at(j);
    if (!is_space(props(cp.c))) break;
    last_start = j;
    j += cp.len;
    ++chars;
    if (is_newline(cp.c)) after_last_newline = j;
  }
  // \s*[\r\n]+ : greedy \s* backtracks to the last newline of the run.
  if (newline_alternative && after_last_newline != 0) return after_last_newline;
  // \s+(?!\S) : the whole run at the end of text, else all but its last
  // code point (which then starts the next piece), if that leaves any.
  if (j == c.size()) return j;
  if (chars >= 2) return last_start;
  return j;  // \s+
}

// r50k/p50k: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::size_t gpt2_piece(const Cursor& c, std::size_t i) {
  if (const std::size_t k = contraction_len(c, i, /*fold=*/false)) return i + k;
  // The optional leading space: with it, the class is decided by the next
  // code point; without it, by the space itself, which is in none of the
  // three classes, so only the first reading can match.
  const std::size_t s = (c.t[i] == ' ' && i + 1 < c.size()) ? i + 1 : i;
  const std::uint8_t p = c.props_at(s);
  if (is_letter(p)) return c.run(s, [](std::uint8_t q) { return is_letter(q); });
  if (is_number(p)) return c.run(s, [](std::uint8_t q) { return is_number(q); });
  if (is_other(p)) return c.run(s, [](std::uint8_t q) { return is_other(q); });
  return whitespace_piece(c, i, /*newline_alternative=*/false);
}

// ` ?[^\s\p{L}\p{N}]+` followed by a greedy run of `tail` characters, or 0.
template <class Tail>
std::size_t punctuation_piece(const Cursor& c, std::size_t i, Tail tail) {
  std::size_t s = i;
  if (c.t[i] == ' ' && i + 1 < c.size() && is_other(c.props_at(i + 1))) s = i + 1;
  if (!is_other(c.props_at(s))) return 0;
  std::size_t e = c.run(s, [](std::uint8_t q) { return is_other(q); });
  while (e < c.size() && tail(c.t[e])) ++e;
  return e;
}

// \p{N}{1,3}
std::size_t number_piece(const Cursor& c, std::size_t i) {
  std::size_t j = i;
  for (int n = 0; n < 3 && j < c.size(); ++n) {
    const CodePoint cp = c.at(j);
    if (!is_number(props(cp.c))) break;
    j += cp.len;
  }
  return j;
}

// [^\r\n\p{L}\p{N}]
bool is_prefix(const CodePoint& cp) {
  const std::uint8_t p = props(cp.c);
  return !is_newline(cp.c) && !is_letter(p) && !is_number(p);
}

// ASCII fast paths for the common pieces of English and code: a word with
// an optional leading space or punctuation, and digits. Each returns 0 when
// a byte it needs to decide is not ASCII; the general scanner then decides.
// English count, cl100k: 181 -> 199 MB/s (bench/tokenize_bench.cpp).
constexpr bool ascii_upper(unsigned char b) {
  return b >= 'A' && b <= 'Z';
}
constexpr bool ascii_lower(unsigned char b) {
  return b >= 'a' && b <= 'z';
}
constexpr bool ascii_letter(unsigned char b) {
  return ascii_upper(b) || ascii_lower(b);
}
constexpr bool ascii_digit(unsigned char b) {
  return b >= '0' && b <= '9';
}
// [^\r\n\p{L}\p{N}] for an ASCII byte.
constexpr bool ascii_prefix(unsigned char b) {
  return b < 0x80 && !ascii_letter(b) && !ascii_digit(b) && b != '\r' && b != '\n';
}

inline unsigned char byte_at(const Cursor& c, std::size_t i) {
  return i < c.size() ? static_cast<unsigned char>(c.t[i]) : 0;  // 0: end of text, ASCII
}

// Start of the letters after an optional prefix byte at i, or npos.
inline std::size_t ascii_word_start(const Cursor& c, std::size_t i) {
  const unsigned char b = byte_at(c, i);
  if (ascii_letter(b)) return i;
  if (ascii_prefix(b) && ascii_letter(byte_at(c, i + 1))) return i + 1;
  return std::string_view::npos;
}

// \p{N}{1,3} over ASCII digits, or 0.
inline std::size_t ascii_digits(const Cursor& c, std::size_t i) {
  std::size_t j = i;
  while (j < i + 3 && ascii_digit(byte_at(c, j))) ++j;
  if (j == i || (j < i + 3 && byte_at(c, j) >= 0x80)) return 0;
  return j;
}

// cl100k's [^\r\n\p{L}\p{N}]?\p{L}+ over ASCII, or 0.
inline std::size_t cl100k_ascii(const Cursor& c, std::size_t i) {
  const std::size_t s = ascii_word_start(c, i);
  if (s == std::string_view::npos) return ascii_digits(c, i);
  std::size_t e = s;
  while (ascii_letter(byte_at(c, e))) ++e;
  return byte_at(c, e) >= 0x80 ? 0 : e;
}

// o200k's letter alternatives over ASCII, where U is A-Z and W is a-z, or 0:
// [U]*[W]+ if any lower-case letter follows the capitals, else [U]+.
inline std::size_t o200k_ascii(const Cursor& c, std::size_t i) {
  const std::size_t s = ascii_word_start(c, i);
  if (s == std::string_view::npos) return ascii_digits(c, i);
  std::size_t e = s;
  while (ascii_upper(byte_at(c, e))) ++e;
  while (ascii_lower(byte_at(c, e))) ++e;
  if (byte_at(c, e) >= 0x80) return 0;
  return e + contraction_len(c, e, /*fold=*/true);
}

// cl100k_base
std::size_t cl100k_piece(const Cursor& c, std::size_t i) {
  if (c.t[i] != '\'') {
    if (const std::size_t e = cl100k_ascii(c, i)) return e;
  }
  if (const std::size_t k = contraction_len(c, i, /*fold=*/true)) return i + k;
  const CodePoint cp = c.at(i);
  const std::uint8_t p = props(cp.c);
  auto letters = [&](std::size_t s) {
    return c.run(s, [](std::uint8_t q) { return is_letter(q); });
  };
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (is_letter(p)) return letters(i);
  if (is_prefix(cp) && i + cp.len < c.size() && is_letter(c.props_at(i + cp.len))) {
    return letters(i + cp.len);
  }
  if (is_number(p)) return number_piece(c, i);
  if (const std::size_t e =
          punctuation_piece(c, i, [](char b) { return b == '\r' || b == '\n'; })) {
    return e;
  }
  return whitespace_piece(c, i, /*newline_alternative=*/true);
}

// o200k's letter alternatives, tried at `s` (after or without the prefix):
//   [U]*[W]+C?   when `first` is true, [U]+[W]*C? otherwise,
// with U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], W = [\p{Ll}\p{Lm}\p{Lo}\p{M}]
// and C the optional case-insensitive contraction. Returns 0 on no match.
std::size_t o200k_letters(const Cursor& c, std::size_t s, bool first) {
  if (s >= c.size()) return 0;
  auto upper = [](std::uint8_t q) { return is_upperish(q); };
  auto lower = [](std::uint8_t q) { return is_lowerish(q); };
  const std::size_t e = c.run(s, upper);
  std::size_t w = 0;
  if (first) {
    if (e < c.size() && is_lowerish(c.props_at(e))) {
      w = c.run(e, lower);
    } else {
      // Backtrack U*: the W+ must start at the last code point of the
      // U-run that is also in W (Lm, Lo or M); it is one code point long,
      // since what follows it in the run is not in W.
      std::size_t last_w = e;
      for (std::size_t j = s; j < e;) {
        const CodePoint cp = c.at(j);
        if (is_lowerish(props(cp.c))) last_w = j;
        j += cp.len;
      }
      if (last_w == e) return 0;
      w = last_w + c.at(last_w).len;
    }
  } else {
    if (e == s) return 0;
    w = c.run(e, lower);
  }
  return w + contraction_len(c, w, /*fold=*/true);
}

// o200k_base
std::size_t o200k_piece(const Cursor& c, std::size_t i) {
  if (const std::size_t e = o200k_ascii(c, i)) return e;
  const CodePoint cp = c.at(i);
  const bool prefix = is_prefix(cp);
  // Alternatives 1 and 2, each first with the optional prefix taken.
  for (const bool first : {true, false}) {
    if (prefix) {
      if (const std::size_t e = o200k_letters(c, i + cp.len, first)) return e;
    }
    if (const std::size_t e = o200k_letters(c, i, first)) return e;
  }
  const std::uint8_t p = props(cp.c);
  if (is_number(p)) return number_piece(c, i);
  if (const std::size_t e =
          punctuation_piece(c, i, [](char b) { return b == '\r' || b == '\n' || b == '/'; })) {
    return e;
  }
  return whitespace_piece(c, i, /*newline_alternative=*/true);
}

}  // namespace

std::string_view pattern_regex(Pattern p) {
  switch (p) {
    case Pattern::kGpt2:
      return kGpt2Regex;
    case Pattern::kCl100k:
      return kCl100kRegex;
    case Pattern::kO200k:
      return kO200kRegex;
  }
  return {};
}

std::size_t piece_end(Pattern p, std::string_view text, std::size_t pos) {
  const Cursor c{text};
  switch (p) {
    case Pattern::kGpt2:
      return gpt2_piece(c, pos);
    case Pattern::kCl100k:
      return cl100k_piece(c, pos);
    case Pattern::kO200k:
      return o200k_piece(c, pos);
  }
  return text.size();
}

}  // namespace llmkit::tokenize
