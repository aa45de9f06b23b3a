// JSON helpers shared by the parts of the core that read and write
// provider payloads: parsing with simdjson into a caller's parser, and
// writing strings with the escapes JSON requires.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/alloc.h"
#include "core/error.h"

namespace llmkit::json {

// Parses `text` with `parser` (whose buffers the result borrows).
// INVALID_ARGUMENT naming `what` when it is not valid JSON (simdjson also
// rejects invalid UTF-8).
inline simdjson::dom::element parse(simdjson::dom::parser& parser, std::string_view text,
                                    std::string_view what) {
  simdjson::dom::element doc;
  if (const auto err = parser.parse(text.data(), text.size()).get(doc)) {
    fail(LLMKIT_INVALID_ARGUMENT,
         std::string(what) + " is not valid JSON: " + simdjson::error_message(err));
  }
  return doc;
}

// Whether one of the 8 bytes of `w` is below 0x20, '"' or '\\': the bytes
// a JSON string escapes. It may say yes for a word without one (a borrow
// past a match), never no for a word with one.
constexpr bool may_need_escape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  constexpr std::uint64_t kHigh = 0x8080808080808080;
  const auto has_zero = [](std::uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  return ((w - kOnes * 0x20) & ~w & kHigh) != 0 || has_zero(w ^ (kOnes * '"')) ||
         has_zero(w ^ (kOnes * '\\'));
}

// Appends `s` as a JSON string literal, quotes included. `s` must be valid
// UTF-8; only what JSON requires is escaped. Hot path: every request body
// and cached answer goes through here. It skips clean text 8 bytes at a
// time; byte by byte, the test was most of writing a call's JSON
// (callgrind over make bench's pipeline/full).
inline void append_string(String& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t i = 0;  // the clean prefix: most strings are clean throughout
  for (std::uint64_t w = 0; i + 8 <= s.size(); i += 8) {
    std::memcpy(&w, s.data() + i, sizeof w);
    if (may_need_escape(w)) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) >= 0x20 && s[i] != '"' && s[i] != '\\') {
    ++i;
  }
  const std::size_t at = out.size();
  out.resize(at + i + 2);  // one resize, where appending piece by piece cost a call each
  char* p = out.data() + at;
  p[0] = '"';
  std::memcpy(p + 1, s.data(), i);
  p[i + 1] = '"';
  if (i == s.size()) return;
  out.pop_back();       // the closing quote comes after the rest
  std::size_t run = i;  // start of the bytes not yet copied
  for (; i < s.size(); ++i) {
    if (i + 8 <= s.size()) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, sizeof w);
      if (!may_need_escape(w)) {
        i += 7;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// Appends the compact JSON text of `e`.
inline void append_element(String& out, simdjson::dom::element e) {
  const std::string text = simdjson::to_string(e);
  out.append(text.data(), text.size());
}

}  // namespace llmkit::json
