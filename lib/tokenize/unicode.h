// Per-code-point classes used by the pre-tokenizer, from tables generated
// out of Debian's unicode-data (scripts/gen-unicode-tables.py).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace llmkit::tokenize {

#include "tokenize/unicode_tables.inc"

// General-category classes (low 3 bits) plus the White_Space flag.
enum : std::uint8_t {
  kOther = 0,
  kLu = 1,
  kLl = 2,
  kLt = 3,
  kLm = 4,
  kLo = 5,
  kMark = 6,    // Mn, Mc, Me
  kNumber = 7,  // Nd, Nl, No
  kSpaceBit = 8,
};

inline constexpr std::uint8_t props_slow(char32_t c) {
  return kStage2[(static_cast<std::size_t>(kStage1[c >> 8]) << 8) | (c & 0xFF)];
}

// ASCII, the common case, in one small table.
inline constexpr auto kAsciiProps = [] {
  std::array<std::uint8_t, 128> t{};
  for (char32_t c = 0; c < 128; ++c) t[c] = props_slow(c);
  return t;
}();

inline std::uint8_t props(char32_t c) {
  return c < 128 ? kAsciiProps[c] : props_slow(c);
}

inline bool is_letter(std::uint8_t p) {
  const std::uint8_t k = p & 7;
  return k >= kLu && k <= kLo;
}
inline bool is_number(std::uint8_t p) {
  return (p & 7) == kNumber;
}
inline bool is_space(std::uint8_t p) {
  return (p & kSpaceBit) != 0;
}
// [^\s\p{L}\p{N}]
inline bool is_other(std::uint8_t p) {
  return !is_space(p) && !is_letter(p) && !is_number(p);
}
// o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
inline bool is_upperish(std::uint8_t p) {
  const std::uint8_t k = p & 7;
  return k == kLu || k == kLt || k == kLm || k == kLo || k == kMark;
}
// o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}]
inline bool is_lowerish(std::uint8_t p) {
  const std::uint8_t k = p & 7;
  return k == kLl || k == kLm || k == kLo || k == kMark;
}

// One code point of already-validated UTF-8.
struct CodePoint {
  char32_t c;
  std::uint32_t len;
};

inline CodePoint decode_at(std::string_view s, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const unsigned char b = p[0];
  if (b < 0x80) return {b, 1};
  if (b < 0xE0) return {static_cast<char32_t>(((b & 0x1F) << 6) | (p[1] & 0x3F)), 2};
  if (b < 0xF0) {
    return {static_cast<char32_t>(((b & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F)), 3};
  }
  return {static_cast<char32_t>(((b & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) |
                                (p[3] & 0x3F)),
          4};
}

}  // namespace llmkit::tokenize
