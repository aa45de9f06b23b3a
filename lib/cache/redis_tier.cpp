#include "cache/redis_tier.h"

#include <chrono>
#include <vector>

#include "cache/codec.h"
#include "core/error.h"

namespace llmkit::cache {

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The prefix as a SCAN MATCH pattern that matches it literally.
std::string glob_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

RedisTier::RedisTier(const Options& o)
    : prefix_(o.get_string("redis.prefix", "llmkit:cache:")),
      client_(redis::Endpoint::parse(o.get_string("redis.url", "redis://127.0.0.1:6379")),
              std::chrono::milliseconds(o.get_int("redis.timeout_ms", 100, 1, 60'000))) {}

std::string RedisTier::redis_key(const Key& key) const {
  char hex[Key::kHexSize];
  key.to_hex(hex);
  return prefix_ + std::string(hex, sizeof hex);
}

std::optional<RedisTier::Found> RedisTier::get(const Key& key) {
  try {
    const std::string k = redis_key(key);
    const std::string_view argv[] = {"GET", k};
    const redis::Reply r = client_.run(argv);
    if (r.type == redis::Reply::Type::kNil) return std::nullopt;
    if (r.type != redis::Reply::Type::kString)
      fail(LLMKIT_UNAVAILABLE, "GET: " + std::string(r.str));
    codec::Decoded d = codec::decode(std::string_view(r.str.data(), r.str.size()));
    Found f{std::move(d.value), 0};
    if (d.expires_unix_ms != 0) {
      f.ttl_ms = d.expires_unix_ms - unix_ms();
      if (f.ttl_ms <= 0) return std::nullopt;  // Redis has not got round to it yet
    }
    return f;
  } catch (const Error&) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
}

void RedisTier::put(const Key& key, std::string_view value, std::int64_t ttl_ms) {
  try {
    const std::string k = redis_key(key);
    const String v = codec::encode(value, ttl_ms == 0 ? 0 : unix_ms() + ttl_ms);
    const std::string ttl = std::to_string(ttl_ms);
    std::vector<std::string_view> argv = {"SET", k, std::string_view(v.data(), v.size())};
    if (ttl_ms != 0) argv.insert(argv.end(), {"PX", ttl});
    if (client_.run(argv).is_error()) errors_.fetch_add(1, std::memory_order_relaxed);
  } catch (const Error&) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

redis::Reply RedisTier::must_run(std::span<const std::string_view> argv) {
  try {
    redis::Reply r = client_.run(argv);
    if (r.is_error()) fail(LLMKIT_UNAVAILABLE, std::string(argv[0]) + ": " + std::string(r.str));
    return r;
  } catch (const Error&) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
}

void RedisTier::erase(const Key& key) {
  const std::string k = redis_key(key);
  const std::string_view argv[] = {"UNLINK", k};
  must_run(argv);
}

void RedisTier::clear() {
  const std::string pattern = glob_escape(prefix_) + "*";
  std::string cursor = "0";
  do {
    const std::string_view scan[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
    const redis::Reply r = must_run(scan);
    if (r.type != redis::Reply::Type::kArray || r.elements.size() != 2) {
      fail(LLMKIT_UNAVAILABLE, "SCAN: unexpected reply");
    }
    cursor.assign(r.elements[0].str.data(), r.elements[0].str.size());
    std::vector<std::string_view> unlink = {"UNLINK"};
    for (const redis::Reply& k : r.elements[1].elements) {
      unlink.emplace_back(k.str.data(), k.str.size());
    }
    if (unlink.size() > 1) must_run(unlink);
  } while (cursor != "0");
}

}  // namespace llmkit::cache
