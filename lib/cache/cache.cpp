#include "cache/cache.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/utf8.h"

namespace llmkit::cache {

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kNsPerMs = 1'000'000;
// `now` + `ns`, saturating: TTLs and waits may be as long as the C API
// allows (about 292 years of nanoseconds).
std::int64_t later(std::int64_t now, std::int64_t ns) {
  return ns > INT64_MAX - now ? INT64_MAX : now + ns;
}

// Ten years: far beyond any useful TTL, far below int64 nanoseconds.
constexpr std::int64_t kMaxTtlSeconds = 10LL * 365 * 24 * 3600;

Limits limits_from(const Options& o) {
  Limits l;
  l.max_entries = static_cast<std::size_t>(o.get_int("max_entries", 100'000, 1, INT32_MAX));
  l.max_bytes = static_cast<std::size_t>(o.get_int("max_bytes", 64LL << 20, 1024, INT64_MAX / 2));
  l.shards = static_cast<std::size_t>(o.get_int("shards", 16, 1, 1024));
  return l;
}

const Options& checked(const Options& o) {
  static constexpr std::string_view kKnown[] = {
      "max_entries", "max_bytes",    "shards",           "ttl",      "temperature", "backend",
      "redis.url",   "redis.prefix", "redis.timeout_ms", "local.ttl"};
  o.require_known(kKnown, "the cache");
  const std::string_view backend = o.get_string("backend", "memory");
  if (backend != "memory" && backend != "redis") {
    fail(LLMKIT_INVALID_ARGUMENT,
         "option 'backend' must be memory or redis, not " + utf8::quote(backend));
  }
  if (backend == "memory") {
    for (const std::string_view k :
         {"redis.url", "redis.prefix", "redis.timeout_ms", "local.ttl"}) {
      if (o.find(k) != nullptr) {
        fail(LLMKIT_INVALID_ARGUMENT, "option " + utf8::quote(k) + " needs backend redis");
      }
    }
  }
  return o;
}

}  // namespace

Use use_of(const Options* call_options) {
  if (call_options == nullptr) return Use::kUse;
  const std::string_view v = call_options->get_string("cache", "use");
  if (v == "use") return Use::kUse;
  if (v == "bypass") return Use::kBypass;
  if (v == "refresh") return Use::kRefresh;
  fail(LLMKIT_INVALID_ARGUMENT,
       "option 'cache' must be use, bypass or refresh, not " + utf8::quote(v));
}

Cache::Cache(const Options& options, Clock clock)
    : clock_(clock), memory_(limits_from(checked(options))) {
  ttl_ns_ = options.get_int("ttl", 3600, 0, kMaxTtlSeconds) * kNsPerSecond;
  const std::string_view temperature = options.get_string("temperature", "cache");
  if (temperature != "cache" && temperature != "skip") {
    fail(LLMKIT_INVALID_ARGUMENT,
         "option 'temperature' must be cache or skip, not " + utf8::quote(temperature));
  }
  skip_random_ = temperature == "skip";
  if (options.get_string("backend", "memory") == "redis") {
    local_ttl_ns_ = options.get_int("local.ttl", 60, 1, kMaxTtlSeconds) * kNsPerSecond;
    redis_ = std::make_unique<RedisTier>(options);
  }
}

Key Cache::key(std::string_view scope, std::string_view provider, simdjson::dom::element request,
               Use requested, Use* use) const {
  const Key k = request_key(scope, provider, request);
  *use = requested == Use::kBypass ? requested : use_for(requested, samples_randomly(request));
  return k;
}

ValueRef Cache::fetch(const Key& key) {
  const std::int64_t now = clock_();
  if (ValueRef v = memory_.get(key, now)) return v;
  if (!redis_) return {};
  auto found = redis_->get(key);
  if (!found) return {};
  ValueRef v(Value::make(std::string_view(found->value.data(), found->value.size())));
  const std::int64_t ttl =
      found->ttl_ms == 0 ? local_ttl_ns_ : std::min(local_ttl_ns_, found->ttl_ms * kNsPerMs);
  memory_.put(key, v, later(now, ttl), now);
  return v;
}

ValueRef Cache::count(ValueRef v) noexcept {
  (v ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return v;
}

ValueRef Cache::get(const Key& key) {
  return count(fetch(key));
}

Cache::Lookup Cache::lookup(const Key& key, std::int64_t wait_ns, const Cancel* cancel) {
  if (ValueRef v = fetch(key)) return {count(std::move(v)), false};
  const std::int64_t deadline = later(SingleFlight::steady_ns(), wait_ns);
  for (;;) {
    bool lead = false;
    const auto flight = flights_.join(key, wait_ns, &lead);
    if (lead) {
      // A put may have landed between the miss above and the join.
      if (ValueRef v = fetch(key)) {
        flights_.land(key, v);
        return {count(std::move(v)), false};
      }
      return {count({}), true};
    }
    waits_.fetch_add(1, std::memory_order_relaxed);
    ValueRef v;
    switch (flights_.wait(*flight, deadline, cancel, &v)) {
      case SingleFlight::Outcome::kDone:
        return {count(std::move(v)), false};
      case SingleFlight::Outcome::kAbandoned:
        continue;  // the first waiter back leads
      case SingleFlight::Outcome::kTimedOut:
        // The flight stays: its filler may yet land it for other waiters.
        return {count({}), false};
    }
  }
}

void Cache::put(const Key& key, std::string_view value, std::int64_t ttl_ns) {
  if (ttl_ns == 0) ttl_ns = ttl_ns_;
  ValueRef v(Value::make(value));
  const std::int64_t now = clock_();
  std::int64_t local_ttl = ttl_ns;
  if (redis_) {
    redis_->put(key, value, ttl_ns / kNsPerMs + (ttl_ns % kNsPerMs != 0 ? 1 : 0));
    local_ttl = ttl_ns == 0 ? local_ttl_ns_ : std::min(ttl_ns, local_ttl_ns_);
  }
  memory_.put(key, v, local_ttl == 0 ? 0 : later(now, local_ttl), now);
  flights_.land(key, v);
}

void Cache::invalidate(const Key& key) {
  memory_.erase(key);
  if (redis_) redis_->erase(key);
}

void Cache::clear() {
  memory_.clear();
  if (redis_) redis_->clear();
}

Stats Cache::stats() const {
  Stats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.waits = waits_.load(std::memory_order_relaxed);
  s.backend_errors = redis_ ? redis_->errors() : 0;
  s.tier = memory_.stats();
  return s;
}

}  // namespace llmkit::cache
