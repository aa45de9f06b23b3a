#include "core/utf8.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "core/error.h"

namespace llmkit::utf8 {

std::optional<std::size_t> first_invalid(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII eight bytes at a time: most text is mostly ASCII.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlongs
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // no overlongs
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::nullopt;
}

std::string quote(std::string_view s, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const bool cut = s.size() > max_bytes;
  if (cut) {
    std::size_t end = max_bytes;  // back up to a code point boundary
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    s = s.substr(0, end);
  }
  std::string out = "'";
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t valid = first_invalid(s.substr(i)).value_or(s.size() - i);
    for (const char ch : s.substr(i, valid)) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7F) {
        escape(c);
      } else {
        out += ch;
      }
    }
    i += valid;
    if (i < s.size()) escape(static_cast<unsigned char>(s[i++]));
  }
  out += cut ? "'..." : "'";
  return out;
}

void require_valid(std::string_view s, std::string_view what) {
  if (auto bad = first_invalid(s)) {
    fail(LLMKIT_INVALID_ARGUMENT,
         std::string(what) + " is not valid UTF-8 (byte offset " + std::to_string(*bad) + ")");
  }
}

}  // namespace llmkit::utf8
