// Cache keys: a 128-bit XXH3 hash of a canonical form of the request, so
// that two requests share a key exactly when they ask for the same answer.
//
// The canonical form is a typed, length-prefixed encoding of the JSON
// value: object members sorted by key, numbers by value (1, 1.0 and 1e0
// are one number), strings by their unescaped bytes. The scope and the
// provider come first, so tenants and providers never share a key. At the
// top level of a request, the fields that cannot change the answer are
// left out (kIgnoredFields); every other field, known or not, is kept, so
// a field this list does not know can cost a miss but never a wrong hit.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "core/alloc.h"

namespace llmkit::cache {

struct Key {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;

  friend bool operator==(const Key&, const Key&) = default;

  static constexpr std::size_t kHexSize = 32;
  // 32 lower-case hex digits, high half first.
  void to_hex(char out[kHexSize]) const noexcept;
  // INVALID_ARGUMENT unless `hex` is 32 hex digits (either case).
  static Key from_hex(std::string_view hex);
};

// Top-level request fields that do not change the answer: streaming,
// end-user and tracking tags, storage and routing hints, timeouts.
inline constexpr std::array<std::string_view, 12> kIgnoredFields = {"stream",
                                                                    "stream_options",
                                                                    "user",
                                                                    "metadata",
                                                                    "store",
                                                                    "timeout",
                                                                    "request_id",
                                                                    "safety_identifier",
                                                                    "prompt_cache_key",
                                                                    "prompt_cache_retention",
                                                                    "keep_alive",
                                                                    "idempotency_key"};

// Writes the canonical form of JSON values into a buffer and hashes it.
class Canonical {
 public:
  void begin(std::string_view kind, std::string_view scope, std::string_view provider);
  // `value` in canonical form; at the top level of an object, members named
  // in `skip` are left out.
  void add(simdjson::dom::element value, std::span<const std::string_view> skip = {});
  void add_string(std::string_view s);
  // For callers that write a form of their own (the pipeline keys a
  // request's fields without JSON text): typed like the values above.
  void add_int(std::int64_t n);
  void add_double(double d);
  void add_bool(bool b) { put(b ? 't' : 'f'); }
  void add_null() { put('n'); }
  void add_array(std::size_t n) {  // the header of `n` values written next
    put('a');
    add_length(n);
  }
  Key hash() const noexcept;
  // Rewinds to `size()`, so a shared prefix is written once.
  std::size_t size() const noexcept { return len_; }
  void truncate(std::size_t n) { len_ = n; }

 private:
  // Appends through one capacity check instead of std::string's several:
  // the walk was a third of keying a 1 KB request (make bench: cache/hit).
  void put(const void* bytes, std::size_t n) {
    if (n == 0) return;  // `bytes` may then be null, which memcpy forbids
    if (n > buf_.size() - len_) grow(n);
    std::memcpy(buf_.data() + len_, bytes, n);
    len_ += n;
  }
  void put(char c) {
    if (len_ == buf_.size()) grow(1);
    buf_[len_++] = c;
  }
  void grow(std::size_t n);
  void add_length(std::size_t n);
  void add_number(simdjson::dom::element value);
  void add_number_text(const char* text, std::size_t n);

  String buf_;           // its size is the capacity
  std::size_t len_ = 0;  // bytes written
};

// The key of a request body (a JSON object) for `provider` in `scope`.
// INVALID_ARGUMENT when `request` is not a JSON object.
Key request_key(std::string_view scope, std::string_view provider, simdjson::dom::element request);

// Whether the request is sampled at a temperature other than 0: its
// "temperature" (OpenAI, Anthropic), "generationConfig.temperature"
// (Gemini) or "options.temperature" (Ollama) is non-zero or absent, as
// every provider's default is.
bool samples_randomly(simdjson::dom::element request);

}  // namespace llmkit::cache
