#include "cache/memory_tier.h"

#include <algorithm>
#include <bit>

namespace llmkit::cache {

namespace {

struct Entry {
  Key key;
  ValueRef value;
  std::int64_t expires_at = 0;
  std::size_t charge = 0;
  Entry* prev = nullptr;
  Entry* next = nullptr;
  std::uint8_t freq = 0;  // hits since queued, capped at 3
  bool in_main = false;
};

struct KeyHash {
  std::size_t operator()(const Key& k) const noexcept { return k.lo; }
};

using Map = std::unordered_map<Key, Entry, KeyHash, std::equal_to<>,
                               Allocator<std::pair<const Key, Entry>>>;

// A FIFO of entries, linked through the entries themselves.
struct Fifo {
  Entry* head = nullptr;  // oldest
  Entry* tail = nullptr;
  std::size_t count = 0;
  std::size_t bytes = 0;

  void push(Entry* e) noexcept {
    e->prev = tail;
    e->next = nullptr;
    (tail != nullptr ? tail->next : head) = e;
    tail = e;
    ++count;
    bytes += e->charge;
  }
  void remove(Entry* e) noexcept {
    (e->prev != nullptr ? e->prev->next : head) = e->next;
    (e->next != nullptr ? e->next->prev : tail) = e->prev;
    --count;
    bytes -= e->charge;
  }
};

}  // namespace

struct MemoryTier::Shard {
  mutable std::mutex mutex;
  Map map;
  Fifo small;  // probation: new keys
  Fifo main;   // keys hit while in probation, or back soon after eviction
  // Keys evicted from probation lately (their low 64 bits), oldest first.
  std::deque<std::uint64_t, Allocator<std::uint64_t>> ghost_order;
  std::unordered_set<std::uint64_t, std::hash<std::uint64_t>, std::equal_to<>,
                     Allocator<std::uint64_t>>
      ghosts;
  std::size_t max_entries = 0;
  std::size_t max_bytes = 0;
  std::uint64_t evictions = 0;
  std::uint64_t expirations = 0;

  std::size_t entries() const noexcept { return small.count + main.count; }
  std::size_t bytes() const noexcept { return small.bytes + main.bytes; }
  bool over() const noexcept { return entries() > max_entries || bytes() > max_bytes; }

  void unlink(Entry* e) {
    (e->in_main ? main : small).remove(e);
    const Key k = e->key;  // erase() must not read the node it frees
    map.erase(k);
  }

  void drop(Entry* e, bool expired) {
    ++(expired ? expirations : evictions);
    unlink(e);
  }

  void remember(std::uint64_t k) {
    if (!ghosts.insert(k).second) return;
    ghost_order.push_back(k);
    if (ghost_order.size() > max_entries) {
      ghosts.erase(ghost_order.front());
      ghost_order.pop_front();
    }
  }

  // Takes one step of S3-FIFO: drops one entry, or moves entries between
  // queues and returns with nothing dropped.
  void evict_one(std::int64_t now) {
    const bool small_full =
        small.bytes >= max_bytes / 10 || small.count >= std::max<std::size_t>(1, max_entries / 10);
    if (small.count > 0 && (small_full || main.count == 0)) {
      while (Entry* e = small.head) {
        if (e->expires_at != 0 && now >= e->expires_at) return drop(e, true);
        if (e->freq > 0) {  // read again while on probation: keep it
          small.remove(e);
          e->freq = 0;
          e->in_main = true;
          main.push(e);
          continue;
        }
        remember(e->key.lo);
        return drop(e, false);
      }
      return;
    }
    while (Entry* e = main.head) {
      if (e->expires_at != 0 && now >= e->expires_at) return drop(e, true);
      if (e->freq == 0) return drop(e, false);
      --e->freq;
      main.remove(e);
      main.push(e);
    }
  }
};

MemoryTier::MemoryTier(const Limits& limits) {
  const std::size_t n = std::bit_ceil(std::max<std::size_t>(1, limits.shards));
  shards_ = std::make_unique<Shard[]>(n);
  shard_mask_ = n - 1;
  for (std::size_t i = 0; i < n; ++i) {
    shards_[i].max_entries = std::max<std::size_t>(1, (limits.max_entries + n - 1) / n);
    shards_[i].max_bytes = limits.max_bytes / n;
  }
}

MemoryTier::~MemoryTier() = default;

std::size_t MemoryTier::entry_overhead() noexcept {
  // libstdc++'s node: next pointer, cached hash, the pair; plus its bucket.
  return sizeof(Map::value_type) + 3 * sizeof(void*) + sizeof(Value);
}

MemoryTier::Shard& MemoryTier::shard_of(const Key& key) const noexcept {
  return shards_[key.hi & shard_mask_];
}

ValueRef MemoryTier::get(const Key& key, std::int64_t now) {
  Shard& s = shard_of(key);
  std::lock_guard<std::mutex> lock(s.mutex);
  const auto it = s.map.find(key);
  if (it == s.map.end()) return {};
  Entry& e = it->second;
  if (e.expires_at != 0 && now >= e.expires_at) {
    s.drop(&e, true);
    return {};
  }
  if (e.freq < 3) ++e.freq;
  return e.value;
}

bool MemoryTier::put(const Key& key, ValueRef value, std::int64_t expires_at, std::int64_t now) {
  const std::size_t charge = value->size() + entry_overhead();
  Shard& s = shard_of(key);
  std::lock_guard<std::mutex> lock(s.mutex);
  if (charge > s.max_bytes) {
    // The old value must not outlive a put that replaced it.
    if (const auto it = s.map.find(key); it != s.map.end()) s.unlink(&it->second);
    return false;
  }
  auto [it, fresh] = s.map.try_emplace(key);
  Entry& e = it->second;
  if (!fresh) {
    Fifo& q = e.in_main ? s.main : s.small;
    q.remove(&e);
    e.value = std::move(value);
    e.expires_at = expires_at;
    e.charge = charge;
    q.push(&e);
  } else {
    e.key = key;
    e.value = std::move(value);
    e.expires_at = expires_at;
    e.charge = charge;
    e.in_main = s.ghosts.erase(key.lo) != 0;  // evicted lately and back: skip probation
    (e.in_main ? s.main : s.small).push(&e);
  }
  while (s.over()) s.evict_one(now);
  return true;
}

bool MemoryTier::erase(const Key& key) {
  Shard& s = shard_of(key);
  std::lock_guard<std::mutex> lock(s.mutex);
  const auto it = s.map.find(key);
  if (it == s.map.end()) return false;
  s.unlink(&it->second);
  return true;
}

void MemoryTier::clear() {
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard<std::mutex> lock(s.mutex);
    s.map.clear();
    s.small = Fifo{};
    s.main = Fifo{};
    s.ghosts.clear();
    s.ghost_order.clear();
  }
}

TierStats MemoryTier::stats() const {
  TierStats t;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    const Shard& s = shards_[i];
    std::lock_guard<std::mutex> lock(s.mutex);
    t.evictions += s.evictions;
    t.expirations += s.expirations;
    t.entries += s.entries();
    t.bytes += s.bytes();
  }
  return t;
}

}  // namespace llmkit::cache
