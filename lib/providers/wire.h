// Small JSON helpers for the providers' wire formats: lenient readers over
// simdjson's DOM (a missing or mistyped member reads as empty or zero, since
// providers omit what they do not use) and a compact writer.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string_view>

#include "core/alloc.h"
#include "core/json.h"

namespace llmkit::providers::wire {

using simdjson::dom::element;

// A JSON null standing for a missing member (a default-constructed element
// points nowhere and must not be read).
inline element missing() {
  static simdjson::dom::parser parser;
  static const element null = parser.parse("null", 4).value();
  return null;
}

inline element member(element e, std::string_view key) {
  element out;
  if (e.is_object() && !e.get_object()[key].get(out)) return out;
  return missing();
}
inline bool has(element e, std::string_view key) {
  element out;
  return e.is_object() && !e.get_object()[key].get(out);
}
inline std::string_view str(element e) {
  std::string_view s;
  return e.is_string() && !e.get_string().get(s) ? s : std::string_view{};
}
inline std::string_view str(element e, std::string_view key) {
  return str(member(e, key));
}
inline std::int64_t num(element e, std::string_view key) {
  const element v = member(e, key);
  if (v.is_int64()) return v.get_int64().value_unsafe();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64().value_unsafe());
  if (v.is_double()) {
    // Saturated: casting a double out of range (1e300) is undefined.
    const double d = v.get_double().value_unsafe();
    if (d >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
    if (d <= -9.2e18) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(d);
  }
  return 0;
}
inline bool truthy(element e, std::string_view key) {
  const element v = member(e, key);
  return v.is_bool() && v.get_bool().value_unsafe();
}
// The array at `key`, empty when absent (a default-constructed array, like
// an element, points nowhere).
inline simdjson::dom::array array(element e, std::string_view key) {
  static simdjson::dom::parser parser;
  static const simdjson::dom::array empty = parser.parse("[]", 2).get_array().value();
  simdjson::dom::array a;
  const element v = member(e, key);
  if (v.is_array() && !v.get_array().get(a)) return a;
  return empty;
}
// A member name written in the source. It is checked when compiling for
// bytes JSON escapes, so Writer writes it without the scan: names were
// half the strings a request body or a cached answer holds, and their scan
// 1k instructions a call (bench/pipeline_instructions.sh).
class Name {
 public:
  consteval Name(const char* text) : text_(text) {  // NOLINT(google-explicit-constructor)
    for (const char c : text_) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
        throw "a member name that JSON must escape: use Writer::key_text";
      }
    }
  }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
};

// Writes compact JSON, placing commas itself.
class Writer {
 public:
  explicit Writer(String& out) : out_(out) {}
  Writer& begin_object() { return open('{'); }
  Writer& end_object() { return close('}'); }
  Writer& begin_array() { return open('['); }
  Writer& end_array() { return close(']'); }
  Writer& key(Name k) {
    sep();
    out_.push_back('"');
    out_.append(k.text().data(), k.text().size());
    out_.append("\":", 2);
    after_key_ = true;
    return *this;
  }
  // A name known only at run time (a member of a caller's JSON).
  Writer& key_text(std::string_view k) {
    sep();
    json::append_string(out_, k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  Writer& string(std::string_view s) {
    sep();
    json::append_string(out_, s);
    return done();
  }
  Writer& number(std::int64_t n) {
    sep();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, r.ptr);
    return done();
  }
  Writer& number(double d) {
    sep();
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round trip
    out_.append(buf, r.ptr);
    return done();
  }
  Writer& boolean(bool b) {
    sep();
    out_ += b ? "true" : "false";
    return done();
  }
  Writer& null() {
    sep();
    out_ += "null";
    return done();
  }
  // Already valid JSON text (a schema, an arguments object).
  Writer& raw(std::string_view json) {
    sep();
    out_.append(json.data(), json.size());
    return done();
  }
  Writer& element(simdjson::dom::element e) {
    sep();
    json::append_element(out_, e);
    return done();
  }
  Writer& field(Name k, std::string_view s) { return key(k).string(s); }

 private:
  void sep() {
    if (after_key_) {
      after_key_ = false;
    } else if (comma_) {
      out_.push_back(',');
    }
  }
  Writer& done() {
    comma_ = true;
    return *this;
  }
  Writer& open(char c) {
    sep();
    out_.push_back(c);
    comma_ = false;
    return *this;
  }
  Writer& close(char c) {
    out_.push_back(c);
    return done();
  }

  String& out_;
  bool comma_ = false;
  bool after_key_ = false;
};

}  // namespace llmkit::providers::wire
