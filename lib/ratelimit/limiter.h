// Per-key limits on requests per window, tokens per window and requests
// in flight, checked together: a request is admitted against all of them or
// charged to none. The state lives in a Store: in-process, in shared memory
// or in Redis, all with the same arithmetic (ratelimit/gcra.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/cancel.h"
#include "options/options.h"
#include "ratelimit/gcra.h"

namespace llmkit::ratelimit {

struct Config {
  Rate requests;  // unlimited when interval_ns == 0
  Rate tokens;
  std::int64_t concurrency = 0;  // 0 = no limit on requests in flight
};

enum class LimitedBy { kNone, kRequests, kTokens, kConcurrency };

struct Decision {
  bool allowed = false;
  LimitedBy by = LimitedBy::kNone;      // the limit that refused
  std::int64_t remaining_requests = 0;  // INT64_MAX when that limit is off
  std::int64_t remaining_tokens = 0;
  std::int64_t retry_after_ns = 0;  // refused: wait this long; -1 = never fits
};

// The state of every key. Implementations are thread-safe.
class Store {
 public:
  virtual ~Store() = default;
  // Admits `tokens` (and one request, and a slot when concurrency is
  // limited) for `key` at `now`, or changes nothing.
  virtual Decision admit(std::string_view key, std::int64_t tokens, std::int64_t now) = 0;
  // Gives back a concurrency slot; false when `key` holds none.
  virtual bool release(std::string_view key, std::int64_t now) = 0;
  // Charges (delta > 0) or refunds (delta < 0) tokens after the fact.
  virtual void adjust_tokens(std::string_view key, std::int64_t delta, std::int64_t now) = 0;
  virtual std::size_t keys() const = 0;
  virtual std::size_t bytes() const = 0;
  // Failed calls to a remote backend (Redis), each handled by the
  // configured failure policy.
  virtual std::uint64_t backend_errors() const { return 0; }
};

// The default Store: sharded open-addressing tables, one mutex a shard, so
// threads on different keys rarely meet. A key is kept as a 96-bit hash
// (a collision merges two keys' limits, with probability about n^2 / 2^97);
// keys whose limits have fully refilled and hold no slot are idle and their
// slots are reused.
std::unique_ptr<Store> make_memory_store(const Config& config);

// One limit for every process on the host that uses the same "shm.name":
// the in-process store's tables in a shared-memory segment sized for
// "shm.capacity" keys. A process that dies holding concurrency slots or a
// lock wedges nobody (ratelimit/shm_segment.h).
inline constexpr std::string_view kShmOptions[] = {"shm.name", "shm.capacity"};
std::unique_ptr<Store> make_shm_store(const Config& config, const Options& options);

// One limit for every host using the same Redis (or Redis Cluster) and
// "redis.prefix": one Lua script decides atomically per key
// (ratelimit/redis_store.cpp).
inline constexpr std::string_view kRedisOptions[] = {
    "redis.url", "redis.prefix", "redis.timeout_ms", "redis.on_error", "redis.lease"};
std::unique_ptr<Store> make_redis_store(const Config& config, const Options& options);

// The store "backend" names ("memory" when unset), configured from the
// backend's own options. INVALID_ARGUMENT names an option the backend does
// not know, or an unknown backend.
std::unique_ptr<Store> make_store(const Options& options, const Config& config);

}  // namespace llmkit::ratelimit

namespace llmkit::ratelimit {

struct Counters {
  std::uint64_t allowed;
  std::uint64_t limited;
};

// A Store plus the clock and the counters; what the C API hands out.
class Limiter {
 public:
  using Clock = std::int64_t (*)();
  // The options every backend shares.
  static constexpr std::string_view kOptions[] = {
      "requests", "tokens", "window", "burst_requests", "burst_tokens", "concurrency", "backend"};
  // Reads "requests", "tokens", "window" (seconds, default 60),
  // "burst_requests", "burst_tokens" (default: the limit), "concurrency".
  // Bad values: INVALID_ARGUMENT. Keys are checked by make_store().
  static Config config_from(const Options& options);

  Limiter(std::unique_ptr<Store> store, Clock clock);
  ~Limiter();
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  Decision check(std::string_view key, std::int64_t tokens);
  // Waits until `key` admits the request, `timeout_ns` passes (TIMEOUT, as
  // soon as the wait is known to outlast it), `cancel` (may be null) is
  // triggered (CANCELLED), or it can never fit (RATE_LIMITED).
  void acquire(std::string_view key, std::int64_t tokens, std::int64_t timeout_ns,
               const Cancel* cancel);
  bool release(std::string_view key);
  // After a call that reserved `reserved` tokens and used `actual`.
  void reconcile(std::string_view key, std::int64_t reserved, std::int64_t actual);
  Counters counters() const;
  const Store& store() const { return *store_; }

  static std::int64_t monotonic_ns();

 private:
  std::unique_ptr<Store> store_;
  Clock clock_;
  std::atomic<std::uint64_t> allowed_{0};
  std::atomic<std::uint64_t> limited_{0};
};

}  // namespace llmkit::ratelimit
