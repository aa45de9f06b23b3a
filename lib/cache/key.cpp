#include "cache/key.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>
#include <vector>

#include "core/error.h"

namespace llmkit::cache {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Bumped whenever the canonical form changes, so old entries stop matching.
constexpr std::string_view kFormat = "llmkit-cache-key-1";

// Members of the objects being written, sorted in place; one buffer per
// thread, used as a stack by nested objects (hot path: no allocation per
// object once it has grown).
thread_local std::vector<std::pair<std::string_view, element>> t_members;

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void Key::to_hex(char out[kHexSize]) const noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(hi >> (60 - 4 * i)) & 0xF];
    out[16 + i] = kHex[(lo >> (60 - 4 * i)) & 0xF];
  }
}

Key Key::from_hex(std::string_view hex) {
  if (hex.size() != kHexSize) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "a cache key is 32 hex digits, not " + std::to_string(hex.size()) + " characters");
  }
  Key k;
  for (std::size_t i = 0; i < kHexSize; ++i) {
    const int d = hex_digit(hex[i]);
    if (d < 0) fail(LLMKIT_INVALID_ARGUMENT, "a cache key is 32 hex digits");
    std::uint64_t& half = i < 16 ? k.hi : k.lo;
    half = (half << 4) | static_cast<std::uint64_t>(d);
  }
  return k;
}

void Canonical::begin(std::string_view kind, std::string_view scope, std::string_view provider) {
  len_ = 0;
  put(kFormat.data(), kFormat.size());
  add_string(kind);
  add_string(scope);
  add_string(provider);
}

void Canonical::grow(std::size_t n) {
  buf_.resize(std::max(2 * buf_.size(), len_ + n + 1024));
}

void Canonical::add_length(std::size_t n) {
  char b[8];
  std::memcpy(b, &n, sizeof b);  // host order: keys are not portable across endianness
  put(b, sizeof b);
}

void Canonical::add_string(std::string_view s) {
  put('s');
  add_length(s.size());
  put(s.data(), s.size());
}

// Numbers are written by value: an integral value in int64's range as an
// integer (so 1, 1.0, 1e0 and -0.0 vs 0 agree), any other double as its
// shortest round-trip form; uint64 values above INT64_MAX as themselves.
void Canonical::add_number(element value) {
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  if (!value.get(i)) {
    add_int(i);
  } else if (!value.get(u)) {
    char text[24];
    const auto r = std::to_chars(text, text + sizeof text, u);
    add_number_text(text, static_cast<std::size_t>(r.ptr - text));
  } else if (!value.get(d)) {  // else not a number: add() only calls this for numbers
    add_double(d);
  }
}

void Canonical::add_int(std::int64_t n) {
  char text[24];
  const auto r = std::to_chars(text, text + sizeof text, n);
  add_number_text(text, static_cast<std::size_t>(r.ptr - text));
}

void Canonical::add_double(double d) {
  // Integral and within int64 (by a cast, not nearbyint: no libm for
  // static linkers to add).
  if (d > -9.2e18 && d < 9.2e18 && static_cast<double>(static_cast<std::int64_t>(d)) == d) {
    add_int(static_cast<std::int64_t>(d));
    return;
  }
  char text[32];
  const auto r = std::to_chars(text, text + sizeof text, d);
  add_number_text(text, static_cast<std::size_t>(r.ptr - text));
}

void Canonical::add_number_text(const char* text, std::size_t n) {
  put('d');
  put(static_cast<char>(n));
  put(text, n);
}

void Canonical::add(element value, std::span<const std::string_view> skip) {
  switch (value.type()) {
    case element_type::NULL_VALUE:
      add_null();
      return;
    case element_type::BOOL:
      add_bool(value.get_bool().value_unsafe());
      return;
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      add_number(value);
      return;
    case element_type::STRING:
      add_string(value.get_string().value_unsafe());
      return;
    case element_type::ARRAY: {
      const simdjson::dom::array array = value.get_array().value_unsafe();
      add_array(array.size());
      for (const element item : array) add(item);
      return;
    }
    case element_type::OBJECT: {
      const std::size_t base = t_members.size();
      const simdjson::dom::object object = value.get_object().value_unsafe();
      for (const auto field : object) {
        if (std::find(skip.begin(), skip.end(), field.key) != skip.end()) continue;
        t_members.emplace_back(field.key, field.value);
      }
      const std::size_t end = t_members.size();
      // Stable, so duplicate keys keep their order. Most request objects
      // have a few members: insertion sort, which unlike std::stable_sort
      // allocates nothing (hot path: make bench's cache/hit).
      const auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
      if (end - base > 16) {
        std::stable_sort(t_members.begin() + static_cast<std::ptrdiff_t>(base), t_members.end(),
                         by_key);
      }
      for (std::size_t m = base + 1; m < end && end - base <= 16; ++m) {
        for (std::size_t j = m; j > base && by_key(t_members[j], t_members[j - 1]); --j) {
          std::swap(t_members[j], t_members[j - 1]);
        }
      }
      put('o');
      add_length(end - base);
      for (std::size_t m = base; m < end; ++m) {
        // By index: nested objects push onto t_members and may move it.
        add_string(t_members[m].first);
        add(t_members[m].second);
      }
      t_members.resize(base);
      return;
    }
  }
}

Key Canonical::hash() const noexcept {
  const XXH128_hash_t h = XXH3_128bits(buf_.data(), len_);
  return Key{h.low64, h.high64};
}

Key request_key(std::string_view scope, std::string_view provider, element request) {
  if (!request.is_object()) fail(LLMKIT_INVALID_ARGUMENT, "the request is not a JSON object");
  thread_local Canonical canonical;
  canonical.begin("request", scope, provider);
  canonical.add(request, kIgnoredFields);
  return canonical.hash();
}

bool samples_randomly(element request) {
  const auto nonzero = [](simdjson::simdjson_result<element> t) {
    double d = 0;
    if (t.get(d)) return true;  // absent (or not a number): the provider's default
    return d != 0;
  };
  if (!request.is_object()) return true;
  const simdjson::dom::object o = request.get_object().value_unsafe();
  for (const char* nest : {"generationConfig", "generation_config", "options"}) {
    simdjson::dom::object inner;
    if (!o[nest].get(inner)) return nonzero(inner["temperature"]);
  }
  return nonzero(o["temperature"]);
}

}  // namespace llmkit::cache
