#include <array>
#include <mutex>
#include <vector>

#include "core/alloc.h"
#include "ratelimit/entry.h"
#include "ratelimit/limiter.h"

namespace llmkit::ratelimit {

namespace {

// Tables grow by half when 80% full, so while keys are added they stay
// between 53% and 80% full: 40 to 60 bytes a key including the index
// (bench/ratelimit_bench.cpp reports the figure).
class Shard {
 public:
  // The entry of `k`, created when absent; never null.
  Entry& find_or_insert(const KeyHash& k, std::int64_t now) {
    if (table_.empty()) table_.assign(16, Entry{});
    if (Entry* e = find_entry(table_, k)) return *e;
    if ((used_ + 1) * 5 > table_.size() * 4) rebuild(now);
    ++used_;
    Entry& e = table_[free_slot(table_, k.hash)];
    e = Entry{k.hash, k.check, 0, 0, 0};
    return e;
  }

  Entry* find(const KeyHash& k) { return table_.empty() ? nullptr : find_entry(table_, k); }

  std::size_t used() const { return used_; }
  std::size_t capacity() const { return table_.size(); }
  std::mutex mutex;

 private:
  // Drops idle keys; grows by half unless that freed enough.
  void rebuild(std::int64_t now) {
    std::vector<Entry, Allocator<Entry>> live;
    live.reserve(used_);
    for (const Entry& e : table_) {
      if (e.hash != 0 && !e.idle(now)) live.push_back(e);
    }
    // Keep the size only if the sweep freed a fifth or more, so that a
    // rebuild (linear in the table) happens at most once per cap/5 inserts.
    std::size_t cap = table_.size();
    while ((live.size() + 1) * 5 > cap * 3) cap += cap / 2;
    table_.assign(cap, Entry{});
    for (const Entry& e : live) table_[free_slot(table_, e.hash)] = e;
    used_ = live.size();
  }

  std::vector<Entry, Allocator<Entry>> table_;
  std::size_t used_ = 0;
};

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const Config& c) : config_(c) {}

  Decision admit(std::string_view key, std::int64_t tokens, std::int64_t now) override {
    const KeyHash k = hash_key(key);
    Shard& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    return ratelimit::admit(config_, s.find_or_insert(k, now), tokens, now);
  }

  bool release(std::string_view key, std::int64_t) override {
    if (config_.concurrency == 0) return false;  // admit() took no slot
    const KeyHash k = hash_key(key);
    Shard& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    Entry* e = s.find(k);
    if (e == nullptr || e->inflight == 0) return false;
    --e->inflight;
    return true;
  }

  void adjust_tokens(std::string_view key, std::int64_t delta, std::int64_t now) override {
    if (config_.tokens.unlimited() || delta == 0) return;
    const KeyHash k = hash_key(key);
    Shard& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    ratelimit::adjust_tokens(config_.tokens, s.find_or_insert(k, now), delta, now);
  }

  std::size_t keys() const override {
    std::size_t n = 0;
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mutex);
      n += s.used();
    }
    return n;
  }

  std::size_t bytes() const override {
    std::size_t n = sizeof(*this);
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mutex);
      n += s.capacity() * sizeof(Entry);
    }
    return n;
  }

 private:
  static constexpr std::size_t kShards = 64;
  // Low bits pick the shard; the slot within it comes from the high bits.
  Shard& shard(const KeyHash& k) { return shards_[k.hash & (kShards - 1)]; }

  Config config_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace

std::unique_ptr<Store> make_memory_store(const Config& config) {
  return std::make_unique<MemoryStore>(config);
}

}  // namespace llmkit::ratelimit
