// The response cache (llmkit_cache in the C API): request keys, an
// in-memory S3-FIFO tier, optionally Redis behind it, and stampede
// protection. Thread-safe.
#pragma once

#include <simdjson.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "cache/key.h"
#include "cache/memory_tier.h"
#include "cache/redis_tier.h"
#include "cache/single_flight.h"
#include "cache/value.h"
#include "core/cancel.h"
#include "options/options.h"

namespace llmkit::cache {

enum class Use { kBypass = 0, kUse = 1, kRefresh = 2 };

// A call's wish, from its "cache" option: "use" (the default; also without
// options), "bypass" or "refresh". INVALID_ARGUMENT for another value.
Use use_of(const Options* call_options);

struct Stats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t waits = 0;
  std::uint64_t backend_errors = 0;
  TierStats tier;
};

class Cache {
 public:
  // Monotonic nanoseconds; tests pass a clock they move by hand.
  using Clock = std::int64_t (*)();
  static std::int64_t monotonic_ns() noexcept { return SingleFlight::steady_ns(); }

  explicit Cache(const Options& options, Clock clock = &monotonic_ns);

  // The key of `request` (a JSON object) and what to do with it given the
  // call's wish (`requested`) and the temperature policy.
  Key key(std::string_view scope, std::string_view provider, simdjson::dom::element request,
          Use requested, Use* use) const;
  // What to do with a request keyed by its caller (through Canonical):
  // `requested`, or kBypass under the temperature policy "skip" for one
  // that `samples_randomly`.
  Use use_for(Use requested, bool samples_randomly) const {
    return skip_random_ && samples_randomly ? Use::kBypass : requested;
  }

  ValueRef get(const Key& key);

  struct Lookup {
    ValueRef value;
    bool fill = false;  // the caller must put() or abandon()
  };
  Lookup lookup(const Key& key, std::int64_t wait_ns, const Cancel* cancel);
  void abandon(const Key& key) { flights_.abandon(key); }

  // `ttl_ns` 0: the "ttl" option.
  void put(const Key& key, std::string_view value, std::int64_t ttl_ns);
  void invalidate(const Key& key);
  void clear();
  Stats stats() const;

  std::int64_t default_ttl_ns() const noexcept { return ttl_ns_; }

 private:
  // The value from the tiers, without counting a hit or miss.
  ValueRef fetch(const Key& key);
  ValueRef count(ValueRef v) noexcept;

  const Clock clock_;
  std::int64_t ttl_ns_ = 0;  // 0: entries do not expire
  bool skip_random_ = false;
  std::int64_t local_ttl_ns_ = 0;  // with Redis: how long the memory tier keeps an entry
  MemoryTier memory_;
  std::unique_ptr<RedisTier> redis_;
  SingleFlight flights_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
  std::atomic<std::uint64_t> waits_{0};
};

}  // namespace llmkit::cache
