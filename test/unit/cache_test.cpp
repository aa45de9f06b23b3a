// The cache as a whole: default TTL on the cache's clock, the temperature
// policy and per-call use, and stampede protection (single flight).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache.h"
#include "core/json.h"
#include "status_of.h"

namespace {

using llmkit::cache::Cache;
using llmkit::cache::Key;
using llmkit::cache::Use;
using llmkit::cache::ValueRef;

std::atomic<std::int64_t> g_now{0};
std::int64_t fake_now() {
  return g_now.load();
}
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMs = 1'000'000;

llmkit::Options options(std::initializer_list<std::pair<const char*, const char*>> kv) {
  llmkit::Options o;
  for (const auto& [k, v] : kv) o.set(k, v);
  return o;
}

std::string text(const ValueRef& v) {
  return v ? std::string(v->bytes()) : std::string("<miss>");
}

Use use_of(const Cache& cache, const std::string& json, Use requested = Use::kUse) {
  simdjson::dom::parser p;
  Use use = Use::kBypass;
  cache.key("", "openai", llmkit::json::parse(p, json, "request"), requested, &use);
  return use;
}

TEST(Cache, PutUsesTheDefaultTtlUnlessGivenOne) {
  g_now = 0;
  Cache cache(options({{"ttl", "60"}}), &fake_now);
  const Key a{1, 2};
  const Key b{3, 4};
  cache.put(a, "default", 0);
  cache.put(b, "short", 5 * kSecond);
  g_now = 5 * kSecond;
  EXPECT_EQ(text(cache.get(b)), "<miss>");
  EXPECT_EQ(text(cache.get(a)), "default");
  g_now = 60 * kSecond;
  EXPECT_EQ(text(cache.get(a)), "<miss>");
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.tier.expirations, 2u);
}

TEST(Cache, TtlZeroMeansEntriesDoNotExpire) {
  g_now = 0;
  Cache cache(options({{"ttl", "0"}}), &fake_now);
  cache.put(Key{1, 1}, "kept", 0);
  g_now = 1'000'000 * kSecond;
  EXPECT_EQ(text(cache.get(Key{1, 1})), "kept");
}

TEST(Cache, TemperaturePolicyAndPerCallUse) {
  Cache caching(options({}));
  Cache skipping(options({{"temperature", "skip"}}));
  const std::string random = R"({"model":"m","temperature":0.7})";
  const std::string fixed = R"({"model":"m","temperature":0})";
  EXPECT_EQ(use_of(caching, random), Use::kUse);
  EXPECT_EQ(use_of(skipping, random), Use::kBypass);
  EXPECT_EQ(use_of(skipping, R"({"model":"m"})"), Use::kBypass);
  EXPECT_EQ(use_of(skipping, fixed), Use::kUse);
  EXPECT_EQ(use_of(skipping, fixed, Use::kRefresh), Use::kRefresh);
  EXPECT_EQ(use_of(skipping, random, Use::kRefresh), Use::kBypass);
  EXPECT_EQ(use_of(caching, fixed, Use::kBypass), Use::kBypass);
}

TEST(Cache, RejectsBadOptions) {
  for (const auto& kv : std::vector<std::pair<const char*, const char*>>{
           {"max_entries", "0"},
           {"max_bytes", "-1"},
           {"shards", "2000"},
           {"ttl", "-5"},
           {"temperature", "sometimes"},
           {"backend", "memcached"},
           {"redis.url", "redis://127.0.0.1:1"},  // without backend redis
           {"no_such_option", "1"}}) {
    EXPECT_EQ(status_of([&] { Cache c(options({kv})); }), LLMKIT_INVALID_ARGUMENT) << kv.first;
  }
}

TEST(CacheSingleFlight, ConcurrentMissesMakeOneUpstreamCall) {
  Cache cache(options({}));
  const Key k{7, 7};
  std::atomic<int> upstream{0};
  std::atomic<int> got{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto r = cache.lookup(k, 10 * kSecond, nullptr);
      if (r.fill) {
        ++upstream;
        // Slow enough that every other thread misses and waits meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        cache.put(k, "answer", 0);
        ++got;
      } else if (text(r.value) == "answer") {
        ++got;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(upstream.load(), 1);
  EXPECT_EQ(got.load(), 8);
  EXPECT_GE(cache.stats().waits, 1u);
}

TEST(CacheSingleFlight, AnAbandonedFillPassesToOneWaiter) {
  Cache cache(options({}));
  const Key k{8, 8};
  const auto first = cache.lookup(k, kSecond, nullptr);
  ASSERT_TRUE(first.fill);
  std::atomic<int> fillers{0};
  std::atomic<int> answers{0};
  std::vector<std::thread> waiters;
  for (int t = 0; t < 4; ++t) {
    waiters.emplace_back([&] {
      auto r = cache.lookup(k, 10 * kSecond, nullptr);
      if (r.fill) {
        ++fillers;
        cache.put(k, "second try", 0);
      } else if (text(r.value) == "second try") {
        ++answers;
      }
    });
  }
  while (cache.stats().waits < 4) std::this_thread::yield();
  cache.abandon(k);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(fillers.load(), 1);
  EXPECT_EQ(answers.load(), 3);
}

TEST(CacheSingleFlight, AWaiterGoesAloneAfterItsTimeoutWithoutStrandingTheOthers) {
  Cache cache(options({}));
  const Key k{9, 9};
  ASSERT_TRUE(cache.lookup(k, kSecond, nullptr).fill);
  std::atomic<bool> long_waiter_done{false};
  std::string long_waiter_got;
  std::thread long_waiter([&] {
    long_waiter_got = text(cache.lookup(k, 60 * kSecond, nullptr).value);
    long_waiter_done = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const auto short_wait = cache.lookup(k, 50 * kMs, nullptr);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_FALSE(short_wait.value);
  EXPECT_FALSE(short_wait.fill);  // goes alone; the filler is still at work
  EXPECT_FALSE(long_waiter_done.load());
  cache.put(k, "landed", 0);  // the first filler's answer still reaches the long waiter
  long_waiter.join();
  EXPECT_EQ(long_waiter_got, "landed");
}

TEST(CacheSingleFlight, AFillerOlderThanACallersWaitIsPresumedLost) {
  Cache cache(options({}));
  const Key k{12, 12};
  ASSERT_TRUE(cache.lookup(k, kSecond, nullptr).fill);  // and never answers
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  // This caller would wait 20 ms, less than the filler has already taken.
  EXPECT_TRUE(cache.lookup(k, 20 * kMs, nullptr).fill);
}

TEST(CacheSingleFlight, AWaitOfYearsDoesNotOverflow) {
  Cache cache(options({}));
  const Key k{13, 13};
  ASSERT_TRUE(cache.lookup(k, kSecond, nullptr).fill);
  std::thread filler([&] {
    while (cache.stats().waits < 1) std::this_thread::yield();
    cache.put(k, "late", 0);
  });
  EXPECT_EQ(text(cache.lookup(k, INT64_MAX, nullptr).value), "late");
  filler.join();
}

TEST(CacheSingleFlight, CancellingEndsAWait) {
  Cache cache(options({}));
  const Key k{10, 10};
  ASSERT_TRUE(cache.lookup(k, kSecond, nullptr).fill);
  llmkit::Cancel cancel;
  std::thread canceller([&] {
    while (cache.stats().waits < 1) std::this_thread::yield();
    cancel.trigger();
  });
  EXPECT_EQ(status_of([&] { cache.lookup(k, 60 * kSecond, &cancel); }), LLMKIT_CANCELLED);
  canceller.join();
}

TEST(CacheSingleFlight, AHitNeverWaits) {
  Cache cache(options({}));
  const Key k{11, 11};
  cache.put(k, "there", 0);
  const auto r = cache.lookup(k, kSecond, nullptr);
  EXPECT_EQ(text(r.value), "there");
  EXPECT_FALSE(r.fill);
  EXPECT_EQ(cache.stats().waits, 0u);
}

}  // namespace
