// JSON string writing (core/json.h): the word-at-a-time scan must escape
// exactly what a byte-by-byte one does, wherever the special bytes fall.
#include "core/json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

namespace llmkit::json {
namespace {

// The plain definition, byte by byte.
std::string reference(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string written(std::string_view s) {
  String out = make_string("x");  // appends: what was there stays
  append_string(out, s);
  return std::string(out.substr(1));
}

TEST(JsonAppendString, AWordWithAnEscapedByteIsNeverSkipped) {
  for (int b = 0; b < 256; ++b) {
    const bool special = b < 0x20 || b == '"' || b == '\\';
    for (int at = 0; at < 8; ++at) {
      for (const int fill : {0x61, 0x7f, 0x80, 0xff, 0x21, 0x20}) {
        unsigned char bytes[8];
        std::fill(bytes, bytes + 8, static_cast<unsigned char>(fill));
        bytes[at] = static_cast<unsigned char>(b);
        std::uint64_t w = 0;
        std::memcpy(&w, bytes, 8);
        if (special) {
          EXPECT_TRUE(may_need_escape(w)) << "byte " << b << " at " << at;
        }
      }
    }
  }
  std::uint64_t clean = 0;
  std::memcpy(&clean, "Hello, w", 8);
  EXPECT_FALSE(may_need_escape(clean));
}

TEST(JsonAppendString, EscapesLikeTheByteByByteDefinitionAtEveryOffset) {
  const std::string specials = std::string("\"\\\n\r\t\x01\x1f", 7) + std::string(1, '\0');
  for (std::size_t len = 0; len < 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (const char sp : specials) {
        std::string s(len, 'q');
        s[at] = sp;
        ASSERT_EQ(written(s), reference(s)) << "length " << len << ", special at " << at;
      }
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 100, ' ');
    // Mostly text, some specials, some UTF-8 continuation-range bytes.
    for (char& c : s) {
      const auto r = rng() % 20;
      c = r == 0   ? specials[rng() % specials.size()]
          : r == 1 ? static_cast<char>(0x80 + rng() % 0x40)
                   : static_cast<char>(0x20 + rng() % 0x5f);
    }
    ASSERT_EQ(written(s), reference(s));
  }
}

}  // namespace
}  // namespace llmkit::json
