// The in-memory tier: TTL per entry on a clock the test moves, the entry
// and byte bounds under a random workload, and S3-FIFO's resistance to
// scans that would flush an LRU.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cache/memory_tier.h"

namespace {

using llmkit::cache::Key;
using llmkit::cache::Limits;
using llmkit::cache::MemoryTier;
using llmkit::cache::Value;
using llmkit::cache::ValueRef;

constexpr std::int64_t kSecond = 1'000'000'000;

Key key(std::uint64_t i) {
  // Spread like real keys: both halves mixed.
  return Key{i * 0x9E3779B97F4A7C15ull + 1, (i + 7) * 0xC2B2AE3D27D4EB4Full};
}

ValueRef value(std::string_view s) {
  return ValueRef(Value::make(s));
}

std::string text(const ValueRef& v) {
  return v ? std::string(v->bytes()) : std::string("<miss>");
}

TEST(CacheMemory, EntriesExpireAtTheirTtl) {
  MemoryTier tier(Limits{});
  tier.put(key(1), value("one"), 10 * kSecond, 0);
  tier.put(key(2), value("two"), 20 * kSecond, 0);
  tier.put(key(3), value("forever"), 0, 0);
  EXPECT_EQ(text(tier.get(key(1), 10 * kSecond - 1)), "one");
  EXPECT_EQ(text(tier.get(key(1), 10 * kSecond)), "<miss>");
  EXPECT_EQ(text(tier.get(key(2), 15 * kSecond)), "two");
  EXPECT_EQ(text(tier.get(key(3), 1'000'000 * kSecond)), "forever");
  EXPECT_EQ(tier.stats().expirations, 1u);
  EXPECT_EQ(tier.stats().entries, 2u);
}

TEST(CacheMemory, ReplacingKeepsOneEntry) {
  MemoryTier tier(Limits{});
  tier.put(key(1), value("a"), 0, 0);
  tier.put(key(1), value(std::string(1000, 'b')), 0, 0);
  EXPECT_EQ(text(tier.get(key(1), 0)), std::string(1000, 'b'));
  EXPECT_EQ(tier.stats().entries, 1u);
  EXPECT_EQ(tier.stats().bytes, 1000 + MemoryTier::entry_overhead());
  EXPECT_TRUE(tier.erase(key(1)));
  EXPECT_FALSE(tier.erase(key(1)));
  EXPECT_EQ(tier.stats().bytes, 0u);
}

TEST(CacheMemory, AValueTooLargeForAShardIsNotStoredAndDropsTheOldOne) {
  MemoryTier tier(Limits{100, 64 * 1024, 4});  // 16 KiB a shard
  tier.put(key(1), value("old"), 0, 0);
  EXPECT_FALSE(tier.put(key(1), value(std::string(20 * 1024, 'x')), 0, 0));
  EXPECT_EQ(text(tier.get(key(1), 0)), "<miss>");
}

TEST(CacheMemory, AHeldValueOutlivesItsEntry) {
  MemoryTier tier(Limits{});
  tier.put(key(1), value("kept"), 0, 0);
  tier.put(key(2), value("kept too"), 0, 0);
  const ValueRef held1 = tier.get(key(1), 0);
  const ValueRef held2 = tier.get(key(2), 0);
  tier.put(key(1), value("replaced"), 0, 0);
  tier.erase(key(2));
  tier.clear();
  EXPECT_EQ(text(held1), "kept");
  EXPECT_EQ(text(held2), "kept too");
}

TEST(CacheMemory, EntryBoundHolds) {
  MemoryTier tier(Limits{100, 1 << 30, 1});
  for (std::uint64_t i = 0; i < 1000; ++i) tier.put(key(i), value("v"), 0, 0);
  EXPECT_EQ(tier.stats().entries, 100u);
  EXPECT_EQ(tier.stats().evictions, 900u);
}

TEST(CacheMemory, ExpiredEntriesGoFirstAndCountAsExpirations) {
  MemoryTier tier(Limits{10, 1 << 30, 1});
  for (std::uint64_t i = 0; i < 10; ++i) tier.put(key(i), value("v"), kSecond, 0);
  for (std::uint64_t i = 10; i < 20; ++i) tier.put(key(i), value("v"), 0, 2 * kSecond);
  EXPECT_EQ(tier.stats().expirations, 10u);
  EXPECT_EQ(tier.stats().evictions, 0u);
}

TEST(CacheMemory, BoundsHoldUnderARandomWorkload) {
  constexpr std::size_t kMaxBytes = 1 << 20;
  constexpr std::size_t kMaxEntries = 300;
  MemoryTier tier(Limits{kMaxEntries, kMaxBytes, 4});
  std::mt19937_64 rng(42);
  std::int64_t now = 0;
  std::size_t hits = 0;
  for (int op = 0; op < 50'000; ++op) {
    const std::uint64_t k = rng() % 2000;
    now += static_cast<std::int64_t>(rng() % 1000) * 1'000'000;
    switch (rng() % 10) {
      case 0:
        tier.erase(key(k));
        break;
      case 1:
      case 2:
      case 3: {
        const std::size_t size = rng() % 3 == 0 ? rng() % 60'000 : rng() % 4000;
        const std::int64_t ttl =
            rng() % 2 == 0 ? 0 : static_cast<std::int64_t>(rng() % 60) * kSecond;
        // Each value says which key it belongs to, so a wrong answer shows.
        tier.put(key(k), value(std::to_string(k) + std::string(size, '.')),
                 ttl == 0 ? 0 : now + ttl, now);
        break;
      }
      default:
        if (const ValueRef v = tier.get(key(k), now)) {
          ++hits;
          ASSERT_EQ(v->bytes().substr(0, v->bytes().find('.')), std::to_string(k));
        }
    }
    const auto s = tier.stats();
    ASSERT_LE(s.bytes, kMaxBytes) << "op " << op;
    ASSERT_LE(s.entries, kMaxEntries) << "op " << op;
  }
  EXPECT_GT(hits, 1000u);  // the workload did exercise hits
  EXPECT_GT(tier.stats().evictions, 1000u);
  tier.clear();
  EXPECT_EQ(tier.stats().bytes, 0u);
  EXPECT_EQ(tier.stats().entries, 0u);
}

TEST(CacheMemory, AScanDoesNotFlushTheWorkingSet) {
  // 50 keys read over and over, then 5000 keys read once: an LRU of 100
  // would end with none of the 50; S3-FIFO's probation queue takes the
  // scan and the main queue keeps the working set.
  MemoryTier tier(Limits{100, 1 << 30, 1});
  for (int round = 0; round < 3; ++round) {
    for (std::uint64_t i = 0; i < 50; ++i) {
      if (!tier.get(key(i), 0)) tier.put(key(i), value("hot"), 0, 0);
    }
  }
  for (std::uint64_t i = 1000; i < 6000; ++i) tier.put(key(i), value("scan"), 0, 0);
  int kept = 0;
  for (std::uint64_t i = 0; i < 50; ++i) kept += tier.get(key(i), 0) ? 1 : 0;
  EXPECT_EQ(kept, 50);
}

TEST(CacheMemory, AKeyBackSoonAfterEvictionSkipsProbation) {
  // 18 keys read again go to the main queue; a stream of new keys then
  // passes through probation (2 entries), each dropped into the ghost list.
  MemoryTier tier(Limits{20, 1 << 30, 1});
  for (std::uint64_t i = 0; i < 18; ++i) tier.put(key(i), value("hot"), 0, 0);
  for (std::uint64_t i = 0; i < 18; ++i) ASSERT_TRUE(tier.get(key(i), 0));
  for (std::uint64_t i = 100; i < 110; ++i) tier.put(key(i), value("stream"), 0, 0);
  ASSERT_FALSE(tier.get(key(100), 0));
  // Back soon: the ghost list sends 100 to the main queue; a newcomer put
  // after it stays on probation and goes with the next stream.
  tier.put(key(100), value("returning"), 0, 0);
  tier.put(key(1000), value("newcomer"), 0, 0);
  for (std::uint64_t i = 200; i < 205; ++i) tier.put(key(i), value("stream"), 0, 0);
  EXPECT_EQ(text(tier.get(key(100), 0)), "returning");
  EXPECT_FALSE(tier.get(key(1000), 0));
}

}  // namespace
