// The in-memory tier: sharded, bounded by entries and by bytes, with a TTL
// per entry, evicting with S3-FIFO (Yang et al., "FIFO queues are all you
// need for cache eviction", SOSP 2023).
//
// Why S3-FIFO rather than W-TinyLFU: a hit only bumps a 2-bit counter in
// the entry, with no list relinking and no frequency sketch to update, so
// the hit path stays a hash lookup under a shard lock (the 1 us target of
// make bench's cache/hit); and its small probationary queue drops
// one-hit wonders, the common case for LLM prompts, after one pass, while
// a ghost list of recently dropped keys lets one that comes back go
// straight to the main queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "cache/key.h"
#include "cache/value.h"
#include "core/alloc.h"

namespace llmkit::cache {

struct Limits {
  std::size_t max_entries = 100'000;
  std::size_t max_bytes = 64u << 20;
  std::size_t shards = 16;
};

struct TierStats {
  std::uint64_t evictions = 0;
  std::uint64_t expirations = 0;
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

class MemoryTier {
 public:
  explicit MemoryTier(const Limits& limits);
  ~MemoryTier();
  MemoryTier(const MemoryTier&) = delete;
  MemoryTier& operator=(const MemoryTier&) = delete;

  // The value of `key`, or null when absent or expired at `now` (an
  // expired entry is dropped).
  ValueRef get(const Key& key, std::int64_t now);
  // Stores `value` until `expires_at` (0: no expiry), replacing any entry.
  // False, storing nothing, when the value alone exceeds a shard's bytes.
  bool put(const Key& key, ValueRef value, std::int64_t expires_at, std::int64_t now);
  bool erase(const Key& key);
  void clear();
  TierStats stats() const;

  // Bytes an entry costs beyond its value: the map node, its bucket, the
  // queue links and the value's header. Counted against "max_bytes".
  static std::size_t entry_overhead() noexcept;

 private:
  struct Shard;
  Shard& shard_of(const Key& key) const noexcept;

  std::unique_ptr<Shard[]> shards_;
  std::size_t shard_mask_;
};

}  // namespace llmkit::cache
