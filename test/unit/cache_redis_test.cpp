// The Redis tier against a real redis-server on a free loopback port: two
// caches (as two processes would) sharing entries, compression, Redis's own
// TTL, prefixes, and Redis dying mid-run: misses and counted errors, never
// a failed get or put.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "cache/cache.h"
#include "redis/client.h"
#include "status_of.h"
#include "support/redis_server.h"

namespace {

using llmkit::cache::Cache;
using llmkit::cache::Key;
using llmkit::cache::ValueRef;
using llmkit::test::RedisServer;

constexpr std::int64_t kSecond = 1'000'000'000;

std::atomic<std::int64_t> g_now{0};
std::int64_t fake_now() {
  return g_now.load();
}

llmkit::Options redis_options(const RedisServer& server, const std::string& prefix) {
  llmkit::Options o;
  o.set("backend", "redis");
  o.set("redis.url", server.url());
  o.set("redis.prefix", prefix);
  o.set("local.ttl", "10");
  return o;
}

std::string text(const ValueRef& v) {
  return v ? std::string(v->bytes()) : std::string("<miss>");
}

std::string hex(const Key& k) {
  char out[Key::kHexSize];
  k.to_hex(out);
  return {out, sizeof out};
}

llmkit::redis::Reply run(llmkit::redis::Client& c, std::initializer_list<std::string_view> argv) {
  return c.run(std::vector<std::string_view>(argv));
}

TEST(CacheRedis, TwoCachesShareEntriesCompressedWithRedisTtl) {
  RedisServer server;
  Cache writer(redis_options(server, "app1:"));
  Cache reader(redis_options(server, "app1:"));
  Cache other_app(redis_options(server, "app2:"));
  const Key k{42, 43};
  std::string answer;
  for (int i = 0; i < 200; ++i) answer += R"({"role":"assistant","content":"The answer is 42."})";
  writer.put(k, answer, 30 * kSecond);

  EXPECT_EQ(text(reader.get(k)), answer);
  EXPECT_EQ(text(other_app.get(k)), "<miss>");

  llmkit::redis::Client raw(llmkit::redis::Endpoint::parse(server.url()),
                            std::chrono::milliseconds(500));
  const auto stored = run(raw, {"STRLEN", "app1:" + hex(k)});
  EXPECT_GT(stored.integer, 0);
  EXPECT_LT(stored.integer, static_cast<std::int64_t>(answer.size()) / 4);  // zstd
  const auto ttl = run(raw, {"PTTL", "app1:" + hex(k)});
  EXPECT_GT(ttl.integer, 25'000);
  EXPECT_LE(ttl.integer, 30'000);
  EXPECT_EQ(writer.stats().backend_errors, 0u);
}

TEST(CacheRedis, InvalidateAndClearReachRedis) {
  RedisServer server;
  Cache a(redis_options(server, "app:"));
  Cache b(redis_options(server, "app:"));
  llmkit::redis::Client raw(llmkit::redis::Endpoint::parse(server.url()),
                            std::chrono::milliseconds(500));
  run(raw, {"SET", "unrelated", "stays"});
  a.put(Key{1, 1}, "one", 0);
  a.put(Key{2, 2}, "two", 0);
  a.invalidate(Key{1, 1});
  EXPECT_EQ(text(b.get(Key{1, 1})), "<miss>");
  EXPECT_EQ(text(b.get(Key{2, 2})), "two");
  a.clear();
  EXPECT_EQ(run(raw, {"DBSIZE"}).integer, 1);
  EXPECT_EQ(std::string(run(raw, {"GET", "unrelated"}).str), "stays");
}

TEST(CacheRedis, TheLocalTierKeepsAnEntryNoLongerThanLocalTtl) {
  RedisServer server;
  g_now = 0;
  Cache writer(redis_options(server, "app:"));
  Cache reader(redis_options(server, "app:"), &fake_now);
  const Key k{5, 5};
  writer.put(k, "v1", 0);
  EXPECT_EQ(text(reader.get(k)), "v1");  // now in reader's memory tier
  writer.invalidate(k);
  EXPECT_EQ(text(reader.get(k)), "v1");  // within local.ttl (10 s)
  g_now = 10 * kSecond;
  EXPECT_EQ(text(reader.get(k)), "<miss>");
}

TEST(CacheRedis, RedisDyingMidRunIsAMissNeverAFailure) {
  RedisServer server;
  Cache cache(redis_options(server, "app:"));
  Cache peer(redis_options(server, "app:"));
  cache.put(Key{1, 1}, "before", 0);
  EXPECT_EQ(text(peer.get(Key{1, 1})), "before");

  server.stop();
  // Not in this process's memory tier, and Redis is gone: a miss.
  EXPECT_EQ(text(cache.get(Key{9, 9})), "<miss>");
  EXPECT_EQ(status_of([&] { cache.put(Key{2, 2}, "during", 0); }), LLMKIT_OK);
  EXPECT_EQ(text(cache.get(Key{2, 2})), "during");  // kept locally
  EXPECT_EQ(text(peer.get(Key{1, 1})), "before");   // the memory tier still answers
  EXPECT_GE(cache.stats().backend_errors, 2u);
  // Removing cannot be reported done while Redis may still hold the entry.
  EXPECT_EQ(status_of([&] { cache.invalidate(Key{1, 1}); }), LLMKIT_UNAVAILABLE);
  EXPECT_EQ(status_of([&] { cache.clear(); }), LLMKIT_UNAVAILABLE);

  server.start();  // empty: no persistence
  // The client retries after its back-off (at most 2 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    cache.put(Key{3, 3}, "after", 0);
    if (text(peer.get(Key{3, 3})) == "after") break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "Redis never came back";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TEST(CacheRedis, AnUnreachableRedisAtStartIsNoFailure) {
  llmkit::Options o;
  o.set("backend", "redis");
  o.set("redis.url", "redis://127.0.0.1:1");
  o.set("redis.timeout_ms", "50");
  Cache cache(o);
  EXPECT_EQ(text(cache.get(Key{1, 2})), "<miss>");
  cache.put(Key{1, 2}, "local", 0);
  EXPECT_EQ(text(cache.get(Key{1, 2})), "local");
  EXPECT_GE(cache.stats().backend_errors, 1u);
}

TEST(CacheRedis, ForeignBytesUnderThePrefixAreAMiss) {
  RedisServer server;
  Cache cache(redis_options(server, "app:"));
  llmkit::redis::Client raw(llmkit::redis::Endpoint::parse(server.url()),
                            std::chrono::milliseconds(500));
  const Key k{6, 6};
  run(raw, {"SET", "app:" + hex(k), "not llmkit's"});
  EXPECT_EQ(text(cache.get(k)), "<miss>");
  run(raw, {"SET", "app:" + hex(k), std::string("LK\x01z", 4) + std::string(8, '\0') + "junk"});
  EXPECT_EQ(text(cache.get(k)), "<miss>");
  EXPECT_EQ(cache.stats().backend_errors, 2u);
}

}  // namespace
