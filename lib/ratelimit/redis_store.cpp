// The "redis" backend: one limit for every host using the same Redis and
// prefix. Each decision is one EVALSHA of ratelimit/redis_script.h, atomic
// per key; the keys of a limiter key share a hash tag, so Redis Cluster
// works. Concurrency slots are leases that this store renews while it holds
// them, so a host that dies gives its slots back when they run out.
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "core/utf8.h"
#include "ratelimit/entry.h"
#include "ratelimit/limiter.h"
#include "ratelimit/redis_script.h"
#include "redis/client.h"

namespace llmkit::ratelimit {

namespace {

// Lua's doubles are exact to 2^53: a burst may take up to 2^52 ns to refill.
constexpr std::int64_t kMaxRedisTolerance = std::int64_t{1} << 52;

// What to do when Redis cannot answer.
enum class OnError { kClosed, kOpen, kLocal };

struct Settings {
  redis::Endpoint endpoint;
  std::string prefix;
  std::chrono::milliseconds timeout;
  OnError on_error;
  std::int64_t lease_ms;
};

// Where a held concurrency slot came from, so release goes back there.
enum class Origin { kRedis, kLocal, kOpen };
struct Held {
  Origin origin;
  std::string holder;  // the sorted-set member, for kRedis
};

std::string hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kDigits[v & 15];
  return s;
}

class RedisStore final : public Store {
 public:
  RedisStore(const Config& c, Settings s)
      : config_(c),
        settings_(std::move(s)),
        client_(settings_.endpoint, settings_.timeout),
        local_(settings_.on_error == OnError::kLocal ? make_memory_store(c) : nullptr),
        limits_{std::to_string(c.requests.interval_ns), std::to_string(c.requests.burst),
                std::to_string(c.tokens.interval_ns), std::to_string(c.tokens.burst),
                std::to_string(c.concurrency)},
        lease_(std::to_string(settings_.lease_ms)) {
    std::random_device rd;
    instance_ = hex((std::uint64_t{rd()} << 32) ^ rd());
    if (config_.concurrency > 0) renewer_ = std::thread([this] { renew_leases(); });
  }

  ~RedisStore() override {
    if (renewer_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
      }
      wake_.notify_all();
      renewer_.join();
    }
    // Nobody can release these slots any more: give them back now rather
    // than when their leases run out.
    for (const auto& [key, held] : held_) {
      for (const Held& h : held) {
        if (h.origin != Origin::kRedis) continue;
        try {
          call(key, {"release", h.holder});
        } catch (...) {  // NOLINT(bugprone-empty-catch): the lease runs out anyway
        }
      }
    }
  }

  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  Decision admit(std::string_view key, std::int64_t tokens, std::int64_t now) override {
    const std::string k = redis_key(key);
    const std::string holder =
        config_.concurrency > 0 ? instance_ + ":" + std::to_string(++holders_) : std::string();
    Decision d;
    Origin origin = Origin::kRedis;
    try {
      d = decision(call(k, {"admit", limits_[0], limits_[1], limits_[2], limits_[3], limits_[4],
                            std::to_string(tokens), holder, lease_}));
    } catch (const Error& e) {
      origin = on_failure(e);
      if (origin == Origin::kLocal) {
        d = local_->admit(key, tokens, now);
      } else {
        d.allowed = true;
        d.remaining_requests = d.remaining_tokens = INT64_MAX;
      }
    }
    if (d.allowed && config_.concurrency > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      held_[k].push_back({origin, holder});
    }
    return d;
  }

  bool release(std::string_view key, std::int64_t now) override {
    const std::string k = redis_key(key);
    Held h;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = held_.find(k);
      if (it == held_.end()) return false;
      h = std::move(it->second.back());
      it->second.pop_back();
      if (it->second.empty()) held_.erase(it);
    }
    if (h.origin == Origin::kLocal) return local_->release(key, now);
    if (h.origin == Origin::kRedis) {
      try {
        call(k, {"release", h.holder});
      } catch (const Error&) {
        errors_.fetch_add(1, std::memory_order_relaxed);  // its lease runs out instead
      }
    }
    return true;
  }

  void adjust_tokens(std::string_view key, std::int64_t delta, std::int64_t now) override {
    if (config_.tokens.unlimited() || delta == 0) return;
    try {
      call(redis_key(key), {"adjust", limits_[2], std::to_string(delta)});
    } catch (const Error& e) {
      if (on_failure(e) == Origin::kLocal) local_->adjust_tokens(key, delta, now);
    }
  }

  // What this process keeps: the local fallback's state; Redis holds the rest.
  std::size_t keys() const override { return local_ ? local_->keys() : 0; }
  std::size_t bytes() const override { return local_ ? local_->bytes() : 0; }
  std::uint64_t backend_errors() const override { return errors_.load(std::memory_order_relaxed); }

 private:
  // "<prefix>{<128-bit hash of the key>}": keys of any length and bytes
  // make short, safe Redis keys, and the braces are the Cluster hash tag.
  std::string redis_key(std::string_view key) const {
    const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
    return settings_.prefix + "{" + hex(h.high64) + hex(h.low64) + "}";
  }

  // Runs the script's `args` on `key`; an error reply is UNAVAILABLE.
  redis::Reply call(const std::string& key, std::initializer_list<std::string_view> args) {
    return call(key, std::span(args.begin(), args.size()));
  }
  redis::Reply call(const std::string& key, std::span<const std::string_view> args) {
    const std::string slots = key + ":slots";
    const std::string_view keys[] = {key, slots};
    redis::Reply r = client_.eval(kRedisScript, keys, args);
    if (r.is_error()) {
      fail(LLMKIT_UNAVAILABLE,
           "redis at " + settings_.endpoint.where() +
               " failed the rate limiter script: " + std::string(r.str.data(), r.str.size()));
    }
    return r;
  }

  Decision decision(const redis::Reply& r) const {
    if (r.type != redis::Reply::Type::kArray || r.elements.size() != 5 ||
        std::any_of(r.elements.begin(), r.elements.end(),
                    [](const redis::Reply& e) { return e.type != redis::Reply::Type::kInteger; })) {
      fail(LLMKIT_UNAVAILABLE, "redis answered the rate limiter script with something else");
    }
    Decision d;
    d.allowed = r.elements[0].integer == 1;
    static constexpr LimitedBy kBy[] = {LimitedBy::kNone, LimitedBy::kRequests, LimitedBy::kTokens,
                                        LimitedBy::kConcurrency};
    d.by = kBy[std::clamp<std::int64_t>(r.elements[1].integer, 0, 3)];
    d.remaining_requests = r.elements[2].integer < 0 ? INT64_MAX : r.elements[2].integer;
    d.remaining_tokens = r.elements[3].integer < 0 ? INT64_MAX : r.elements[3].integer;
    d.retry_after_ns = r.elements[4].integer;
    return d;
  }

  // Counts the failure and applies redis.on_error: rethrows when closed,
  // else says where the answer comes from instead.
  Origin on_failure(const Error& e) {
    if (e.status() != LLMKIT_UNAVAILABLE) throw;  // NOLINT(misc-throw-by-value-catch-by-reference)
    errors_.fetch_add(1, std::memory_order_relaxed);
    switch (settings_.on_error) {
      case OnError::kLocal:
        return Origin::kLocal;
      case OnError::kOpen:
        return Origin::kOpen;
      case OnError::kClosed:
        break;
    }
    throw;  // NOLINT(misc-throw-by-value-catch-by-reference)
  }

  // Extends the leases of the slots this store holds, every third of a
  // lease, so they run out only when this process is gone.
  void renew_leases() {
    const auto every = std::chrono::milliseconds(settings_.lease_ms / 3);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, every, [&] { return stopping_; })) {
      std::vector<std::pair<std::string, std::vector<std::string>>> batch;
      for (const auto& [key, held] : held_) {
        std::vector<std::string> holders;
        for (const Held& h : held) {
          if (h.origin == Origin::kRedis) holders.push_back(h.holder);
        }
        if (!holders.empty()) batch.emplace_back(key, std::move(holders));
      }
      lock.unlock();
      for (const auto& [key, holders] : batch) {
        std::vector<std::string_view> args{"renew", lease_};
        args.insert(args.end(), holders.begin(), holders.end());
        try {
          call(key, args);
        } catch (const Error&) {
          errors_.fetch_add(1);
        } catch (const std::bad_alloc&) {  // NOLINT(bugprone-empty-catch): try again next time
        }
      }
      lock.lock();
    }
  }

  const Config config_;
  const Settings settings_;
  redis::Client client_;
  const std::unique_ptr<Store> local_;  // redis.on_error=local
  const std::string limits_[5];         // the script's arguments for config_
  const std::string lease_;             // and for the lease, in ms
  std::string instance_;                // names this store's slot holders
  std::atomic<std::uint64_t> holders_{0};
  std::atomic<std::uint64_t> errors_{0};

  std::mutex mutex_;  // guards held_ and stopping_
  std::unordered_map<std::string, std::vector<Held>> held_;
  bool stopping_ = false;
  std::condition_variable wake_;
  std::thread renewer_;
};

}  // namespace

std::unique_ptr<Store> make_redis_store(const Config& config, const Options& o) {
  auto string_option = [&](std::string_view key, std::string_view fallback) {
    const String* v = o.find(key);
    return v == nullptr ? std::string(fallback) : std::string(v->data(), v->size());
  };
  Settings s;
  s.endpoint = redis::Endpoint::parse(string_option("redis.url", "redis://127.0.0.1:6379"));
  s.prefix = string_option("redis.prefix", "llmkit:rl:");
  const std::int64_t timeout = o.get_int("redis.timeout_ms").value_or(250);
  if (timeout < 1 || timeout > 60'000) {
    fail(LLMKIT_INVALID_ARGUMENT, "option 'redis.timeout_ms' must be 1 to 60000");
  }
  s.timeout = std::chrono::milliseconds(timeout);
  const std::string on_error = string_option("redis.on_error", "closed");
  if (on_error == "closed") {
    s.on_error = OnError::kClosed;
  } else if (on_error == "open") {
    s.on_error = OnError::kOpen;
  } else if (on_error == "local") {
    s.on_error = OnError::kLocal;
  } else {
    fail(LLMKIT_INVALID_ARGUMENT,
         "option 'redis.on_error' must be closed, open or local, not " + utf8::quote(on_error));
  }
  const std::int64_t lease = o.get_int("redis.lease").value_or(30);
  if (lease < 1 || lease > 86'400) {
    fail(LLMKIT_INVALID_ARGUMENT, "option 'redis.lease' must be 1 to 86400 seconds");
  }
  s.lease_ms = lease * 1000;
  for (const auto& [rate, name] :
       {std::pair{config.requests, "requests"}, std::pair{config.tokens, "tokens"}}) {
    if (!rate.unlimited() && rate.burst > kMaxRedisTolerance / rate.interval_ns) {
      fail(LLMKIT_INVALID_ARGUMENT, std::string("the redis backend needs the ") + name +
                                        " burst to refill within 52 days; this one takes longer");
    }
  }
  return std::make_unique<RedisStore>(config, std::move(s));
}

}  // namespace llmkit::ratelimit
