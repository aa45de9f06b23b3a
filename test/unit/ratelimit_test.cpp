#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "llmkit.h"
#include "options/options.h"
#include "ratelimit/gcra.h"
#include "ratelimit/limiter.h"
#include "status_of.h"

namespace rl = llmkit::ratelimit;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::int64_t g_now = 0;  // the controllable clock
std::int64_t fake_now() {
  return g_now;
}

rl::Limiter make(const std::initializer_list<std::pair<const char*, const char*>>& opts) {
  llmkit::Options o;
  for (const auto& [k, v] : opts) o.set(k, v);
  const rl::Config c = rl::Limiter::config_from(o);
  return rl::Limiter(rl::make_memory_store(c), &fake_now);
}

}  // namespace

TEST(Gcra, BurstThenOneUnitPerInterval) {
  const rl::Rate r = rl::Rate::per_window(60, 60 * kSecond, 5);  // 1/s, burst 5
  std::int64_t tat = 0;
  const std::int64_t now = 1000 * kSecond;
  for (int i = 0; i < 5; ++i) {
    const rl::Verdict v = rl::gcra(r, tat, now, 1);
    ASSERT_TRUE(v.allowed) << i;
    EXPECT_EQ(v.remaining, 4 - i);
    tat = v.new_tat;
  }
  const rl::Verdict refused = rl::gcra(r, tat, now, 1);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ns, kSecond);
  EXPECT_TRUE(rl::gcra(r, tat, now + kSecond, 1).allowed);
  EXPECT_FALSE(rl::gcra(r, tat, now + kSecond - 1, 1).allowed);
  EXPECT_EQ(rl::gcra(r, 0, now, 6).retry_after_ns, -1);  // above the burst: never
}

TEST(Gcra, HugeCostsAreRefusedWithoutOverflow) {
  const rl::Rate r = rl::Rate::per_window(1000, 60 * kSecond, 1000);
  const rl::Verdict v = rl::gcra(r, 0, kSecond, INT64_MAX / 2);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.retry_after_ns, -1);
  EXPECT_EQ(v.remaining, 1000);
}

TEST(Gcra, IntervalRoundsUpSoTheLimitIsNeverExceeded) {
  const rl::Rate r = rl::Rate::per_window(7, 60 * kSecond, 1);
  EXPECT_EQ(r.interval_ns, 8'571'428'572);  // ceil(60e9 / 7)
  EXPECT_GE(r.interval_ns * 7, 60 * kSecond);
}

TEST(Limiter, RequestsAndTokensAreChargedTogetherOrNotAtAll) {
  auto l = make({{"requests", "10"}, {"tokens", "100"}, {"window", "10"}});
  g_now = 5 * kSecond;
  const rl::Decision a = l.check("u", 90);
  ASSERT_TRUE(a.allowed);
  EXPECT_EQ(a.remaining_requests, 9);
  EXPECT_EQ(a.remaining_tokens, 10);
  const rl::Decision b = l.check("u", 20);  // tokens refuse: the request is not charged
  EXPECT_FALSE(b.allowed);
  EXPECT_EQ(b.by, rl::LimitedBy::kTokens);
  EXPECT_EQ(b.retry_after_ns, kSecond);  // 10 tokens/s, 10 over
  EXPECT_EQ(b.remaining_requests, 9);
  EXPECT_TRUE(l.check("other", 100).allowed);  // keys are independent
  EXPECT_EQ(l.counters().allowed, 2u);
  EXPECT_EQ(l.counters().limited, 1u);
}

TEST(Limiter, ConcurrencySlotsAreHeldUntilReleased) {
  auto l = make({{"concurrency", "2"}});
  EXPECT_TRUE(l.check("k", 0).allowed);
  EXPECT_TRUE(l.check("k", 0).allowed);
  const rl::Decision d = l.check("k", 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.by, rl::LimitedBy::kConcurrency);
  EXPECT_TRUE(l.release("k"));
  EXPECT_TRUE(l.check("k", 0).allowed);
  EXPECT_TRUE(l.release("k"));
  EXPECT_TRUE(l.release("k"));
  EXPECT_FALSE(l.release("k"));  // holds none
}

TEST(Limiter, ReconcileRefundsAndCharges) {
  auto l = make({{"tokens", "100"}, {"window", "100"}});
  g_now = 1000 * kSecond;
  ASSERT_TRUE(l.check("k", 80).allowed);  // estimate 80
  l.reconcile("k", 80, 30);               // used 30: 50 back
  EXPECT_EQ(l.check("k", 0).remaining_tokens, 70);
  l.reconcile("k", 0, 60);  // 60 more than reserved
  EXPECT_FALSE(l.check("k", 20).allowed);
  l.reconcile("k", 1000, 0);  // a refund never makes more than a full bucket
  EXPECT_EQ(l.check("k", 0).remaining_tokens, 100);
}

TEST(Limiter, IdleKeysAreDroppedAndMemoryStaysUnder64BytesAKey) {
  auto l = make({{"requests", "1"}, {"window", "1"}});
  g_now = 0;
  const std::size_t n = 100'000;
  for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(l.check("user-" + std::to_string(i), 0).allowed);
  EXPECT_EQ(l.store().keys(), n);
  const double per_key = static_cast<double>(l.store().bytes()) / n;
  EXPECT_LE(per_key, 64.0);
  const std::size_t bytes = l.store().bytes();
  g_now = 10 * kSecond;  // every key has refilled: idle
  for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(l.check("new-" + std::to_string(i), 0).allowed);
  EXPECT_LE(l.store().keys(), n + n / 4);  // the idle ones made room
  EXPECT_LE(l.store().bytes(), bytes * 3 / 2);
}

TEST(Limiter, OptionsAreValidated) {
  llmkit::Options o;
  EXPECT_EQ(status_of([&] { rl::Limiter::config_from(o); }), LLMKIT_INVALID_ARGUMENT);
  o.set("requests", "-1");
  EXPECT_EQ(status_of([&] { rl::Limiter::config_from(o); }), LLMKIT_INVALID_ARGUMENT);
  o.set("requests", "10");
  o.set("windw", "5");
  EXPECT_EQ(status_of([&] { rl::make_store(o, rl::Limiter::config_from(o)); }),
            LLMKIT_INVALID_ARGUMENT);  // unknown key "windw"
  o.unset("windw");
  o.set("backend", "carrier-pigeon");
  EXPECT_EQ(status_of([&] { rl::make_store(o, rl::Limiter::config_from(o)); }),
            LLMKIT_INVALID_ARGUMENT);
  o.set("backend", "memory");
  o.set("redis.url", "redis://127.0.0.1");  // another backend's option
  EXPECT_EQ(status_of([&] { rl::make_store(o, rl::Limiter::config_from(o)); }),
            LLMKIT_INVALID_ARGUMENT);
  o.unset("redis.url");
  EXPECT_EQ(status_of([&] { rl::make_store(o, rl::Limiter::config_from(o)); }), LLMKIT_OK);
  o.set("window", "86400");
  o.set("burst_requests", "1000000000000");  // 36+ years to refill: would overflow
  EXPECT_EQ(status_of([&] { rl::Limiter::config_from(o); }), LLMKIT_INVALID_ARGUMENT);
  o.unset("burst_requests");
  o.set("concurrency", "2147483648");  // more than a 32-bit in-flight count holds
  EXPECT_EQ(status_of([&] { rl::Limiter::config_from(o); }), LLMKIT_INVALID_ARGUMENT);
  o.set("concurrency", "2147483647");
  EXPECT_EQ(status_of([&] { rl::Limiter::config_from(o); }), LLMKIT_OK);
}

// Many threads on one key, real clock: the admitted count never exceeds
// burst + what the rate emits over the run.
TEST(Limiter, HammeredFromManyThreadsNeverAdmitsMoreThanLimitPlusBurst) {
  llmkit::Options o;
  o.set("requests", "2000");
  o.set("window", "1");
  o.set("burst_requests", "100");
  const rl::Config c = rl::Limiter::config_from(o);
  rl::Limiter l(rl::make_memory_store(c), &rl::Limiter::monotonic_ns);
  std::atomic<std::int64_t> admitted{0};
  const std::int64_t start = rl::Limiter::monotonic_ns();
  const std::int64_t run = kSecond / 2;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      while (rl::Limiter::monotonic_ns() - start < run) {
        if (l.check("shared", 0).allowed) admitted.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::int64_t elapsed = rl::Limiter::monotonic_ns() - start;
  const std::int64_t bound = 100 + elapsed / c.requests.interval_ns + 1;
  EXPECT_LE(admitted.load(), bound);
  EXPECT_GE(admitted.load(), bound * 9 / 10);  // and it does not starve them either
}

TEST(RatelimiterApi, CheckReleaseStatAndErrors) {
  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  llmkit_ratelimiter* l = nullptr;
  EXPECT_EQ(llmkit_ratelimiter_new(o, &l), LLMKIT_INVALID_ARGUMENT);  // no limit at all
  llmkit_options_set(o, "requests", "2");
  llmkit_options_set(o, "concurrency", "5");
  ASSERT_EQ(llmkit_ratelimiter_new(o, &l), LLMKIT_OK) << llmkit_last_error();
  llmkit_options_free(o);  // the limiter copied what it needs

  int allowed = -1;
  int64_t retry = 0, rem_req = 0, rem_tok = 0;
  const std::string key(1 << 20, '\0');  // 1 MB of zero bytes is a key like any other
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(llmkit_ratelimiter_check(l, key.data(), key.size(), 0, &allowed, &retry, &rem_req,
                                       &rem_tok),
              LLMKIT_OK);
    EXPECT_EQ(allowed, 1);
  }
  EXPECT_EQ(rem_tok, INT64_MAX);
  ASSERT_EQ(
      llmkit_ratelimiter_check(l, key.data(), key.size(), 0, &allowed, &retry, nullptr, nullptr),
      LLMKIT_OK);
  EXPECT_EQ(allowed, 0);
  EXPECT_LE(retry, 30'000);  // 2 a minute: 30 s after the first, on the real clock
  EXPECT_GT(retry, 29'000);
  EXPECT_EQ(llmkit_ratelimiter_check(l, "", 0, 0, &allowed, nullptr, nullptr, nullptr), LLMKIT_OK);
  EXPECT_EQ(allowed, 1);  // the empty key works too

  EXPECT_EQ(llmkit_ratelimiter_release(l, key.data(), key.size()), LLMKIT_OK);
  EXPECT_EQ(llmkit_ratelimiter_release(l, "nobody", 6), LLMKIT_NOT_FOUND);
  uint64_t v = 0;
  ASSERT_EQ(llmkit_ratelimiter_stat(l, "allowed", &v), LLMKIT_OK);
  EXPECT_EQ(v, 3u);
  ASSERT_EQ(llmkit_ratelimiter_stat(l, "limited", &v), LLMKIT_OK);
  EXPECT_EQ(v, 1u);
  ASSERT_EQ(llmkit_ratelimiter_stat(l, "keys", &v), LLMKIT_OK);
  EXPECT_EQ(v, 2u);
  EXPECT_EQ(llmkit_ratelimiter_stat(l, "nope", &v), LLMKIT_NOT_FOUND);
  EXPECT_EQ(llmkit_ratelimiter_check(l, nullptr, 3, 0, &allowed, nullptr, nullptr, nullptr),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_ratelimiter_check(l, "k", 1, 0, nullptr, nullptr, nullptr, nullptr),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_ratelimiter_check(nullptr, "k", 1, 0, &allowed, nullptr, nullptr, nullptr),
            LLMKIT_INVALID_ARGUMENT);
  llmkit_ratelimiter_free(l);
  llmkit_ratelimiter_free(nullptr);
}

namespace {

struct Api {
  llmkit_ratelimiter* l = nullptr;
  explicit Api(const std::initializer_list<std::pair<const char*, const char*>>& opts) {
    llmkit_options* o = nullptr;
    llmkit_options_new(&o);
    for (const auto& [k, v] : opts) llmkit_options_set(o, k, v);
    EXPECT_EQ(llmkit_ratelimiter_new(o, &l), LLMKIT_OK) << llmkit_last_error();
    llmkit_options_free(o);
  }
  ~Api() { llmkit_ratelimiter_free(l); }
  llmkit_status acquire(std::uint64_t tokens, std::int64_t timeout_ms, llmkit_cancel* c = nullptr) {
    return llmkit_ratelimiter_acquire(l, "k", 1, tokens, timeout_ms, c);
  }
};

}  // namespace

TEST(RatelimiterApi, AcquireWaitsForTheRateOrGivesUpAtOnce) {
  Api a({{"requests", "20"}, {"window", "1"}, {"burst_requests", "1"}});
  ASSERT_EQ(a.acquire(0, 0), LLMKIT_OK);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(a.acquire(0, 1000), LLMKIT_OK);  // the next one is 50 ms away
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(40));

  Api slow({{"requests", "1"}, {"window", "60"}});
  ASSERT_EQ(slow.acquire(0, 0), LLMKIT_OK);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(slow.acquire(0, 100), LLMKIT_TIMEOUT);  // a minute away: no point waiting
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));

  Api tokens({{"tokens", "10"}});
  EXPECT_EQ(tokens.acquire(11, 1000), LLMKIT_RATE_LIMITED);
  EXPECT_NE(std::strstr(llmkit_last_error(), "never fit"), nullptr);
  EXPECT_EQ(tokens.acquire(1, -1), LLMKIT_INVALID_ARGUMENT);
}

TEST(RatelimiterApi, AcquireGetsASlotWhenAnotherThreadReleasesIt) {
  Api a({{"concurrency", "1"}});
  ASSERT_EQ(a.acquire(0, 0), LLMKIT_OK);
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    llmkit_ratelimiter_release(a.l, "k", 1);
  });
  EXPECT_EQ(a.acquire(0, 5000), LLMKIT_OK);
  releaser.join();
}

TEST(RatelimiterApi, AcquireEndsAtOnceWhenCancelled) {
  Api a({{"concurrency", "1"}});
  ASSERT_EQ(a.acquire(0, 0), LLMKIT_OK);
  llmkit_cancel* c = nullptr;
  ASSERT_EQ(llmkit_cancel_new(&c), LLMKIT_OK);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    llmkit_cancel_trigger(c);
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(a.acquire(0, 60'000, c), LLMKIT_CANCELLED);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  canceller.join();
  EXPECT_EQ(a.acquire(0, 60'000, c), LLMKIT_CANCELLED);  // stays triggered
  EXPECT_EQ(llmkit_cancel_trigger(nullptr), LLMKIT_INVALID_ARGUMENT);
  llmkit_cancel_free(c);
}
