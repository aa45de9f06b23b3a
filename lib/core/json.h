// JSON helpers shared by the parts of the core that read and write
// provider payloads: parsing with simdjson into a caller's parser, and
// writing strings with the escapes JSON requires.
#pragma once

#include <simdjson.h>

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

// Appends `s` as a JSON string literal, quotes included. `s` must be valid
// UTF-8; only what JSON requires is escaped.
inline void append_string(String& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
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
