// The shared tier: entries in Redis under a per-application prefix, so
// every process and host with the same Redis and prefix sees them. Redis
// expires them itself. A failed read or write counts an error and acts as
// a miss, so a dead Redis slows nothing but the cache's hit rate.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "cache/key.h"
#include "core/alloc.h"
#include "options/options.h"
#include "redis/client.h"

namespace llmkit::cache {

class RedisTier {
 public:
  explicit RedisTier(const Options& options);

  struct Found {
    String value;
    std::int64_t ttl_ms = 0;  // what remains; 0: no expiry
  };
  // nullopt on a miss, and on an error (counted).
  std::optional<Found> get(const Key& key);
  // `ttl_ms` 0: no expiry. An error is counted, not thrown.
  void put(const Key& key, std::string_view value, std::int64_t ttl_ms);
  // UNAVAILABLE when Redis cannot be reached: the entry may live on.
  void erase(const Key& key);
  // Removes every key under the prefix; UNAVAILABLE as erase().
  void clear();

  std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }

 private:
  std::string redis_key(const Key& key) const;
  // Runs a command whose failure must reach the caller.
  redis::Reply must_run(std::span<const std::string_view> argv);

  std::string prefix_;
  redis::Client client_;
  std::atomic<std::uint64_t> errors_{0};
};

}  // namespace llmkit::cache
