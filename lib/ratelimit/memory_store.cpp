#include <algorithm>
#include <array>
#include <mutex>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/alloc.h"
#include "ratelimit/limiter.h"

namespace llmkit::ratelimit {

namespace {

// 32 bytes. Tables grow by half when 80% full, so while keys are added they
// stay between 53% and 80% full: 40 to 60 bytes a key including the index
// (bench/ratelimit_bench.cpp reports the figure).
struct Entry {
  std::uint64_t hash = 0;   // 0 = empty
  std::uint32_t check = 0;  // 32 more hash bits
  std::int32_t inflight = 0;
  std::int64_t tat_requests = 0;
  std::int64_t tat_tokens = 0;
};
static_assert(sizeof(Entry) == 32);

struct KeyHash {
  std::uint64_t hash;
  std::uint32_t check;
};

KeyHash hash_key(std::string_view key) {
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  return {h.low64 == 0 ? 1 : h.low64, static_cast<std::uint32_t>(h.high64)};
}

class Shard {
 public:
  // The entry of `k`, created when absent; never null.
  Entry& find_or_insert(const KeyHash& k, std::int64_t now) {
    if (table_.empty()) table_.assign(16, Entry{});
    if (Entry* e = find(k)) return *e;
    if ((used_ + 1) * 5 > table_.size() * 4) rebuild(now);
    std::size_t i = slot(k.hash);
    while (table_[i].hash != 0) i = next(i);
    ++used_;
    table_[i] = Entry{k.hash, k.check, 0, 0, 0};
    return table_[i];
  }

  Entry* find(const KeyHash& k) {
    if (table_.empty()) return nullptr;
    for (std::size_t i = slot(k.hash); table_[i].hash != 0; i = next(i)) {
      if (table_[i].hash == k.hash && table_[i].check == k.check) return &table_[i];
    }
    return nullptr;
  }

  std::size_t used() const { return used_; }
  std::size_t capacity() const { return table_.size(); }
  std::mutex mutex;

 private:
  // Any table size works: the home slot is the hash scaled to the size.
  std::size_t slot(std::uint64_t hash) const {
    __extension__ using u128 = unsigned __int128;  // GCC and Clang
    return static_cast<std::size_t>((static_cast<u128>(hash) * table_.size()) >> 64);
  }
  std::size_t next(std::size_t i) const { return i + 1 == table_.size() ? 0 : i + 1; }

  // Drops idle keys (state equal to a fresh key's); grows by half unless
  // that freed enough.
  void rebuild(std::int64_t now) {
    std::vector<Entry, Allocator<Entry>> live;
    live.reserve(used_);
    for (const Entry& e : table_) {
      if (e.hash != 0 && (e.inflight > 0 || e.tat_requests > now || e.tat_tokens > now)) {
        live.push_back(e);
      }
    }
    // Keep the size only if the sweep freed a fifth or more, so that a
    // rebuild (linear in the table) happens at most once per cap/5 inserts.
    std::size_t cap = table_.size();
    while ((live.size() + 1) * 5 > cap * 3) cap += cap / 2;
    table_.assign(cap, Entry{});
    for (const Entry& e : live) {
      std::size_t i = slot(e.hash);
      while (table_[i].hash != 0) i = next(i);
      table_[i] = e;
    }
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
    Entry& e = s.find_or_insert(k, now);
    const Verdict req = gcra(config_.requests, e.tat_requests, now, 1);
    const Verdict tok = gcra(config_.tokens, e.tat_tokens, now, tokens);
    Decision d;
    d.remaining_requests = req.remaining;
    d.remaining_tokens = tok.remaining;
    if (!req.allowed) {
      d.by = LimitedBy::kRequests;
      d.retry_after_ns = req.retry_after_ns;
    }
    if (!tok.allowed && (d.by == LimitedBy::kNone || tok.retry_after_ns < 0 ||
                         (d.retry_after_ns >= 0 && tok.retry_after_ns > d.retry_after_ns))) {
      d.by = LimitedBy::kTokens;
      d.retry_after_ns = tok.retry_after_ns;
    }
    if (d.by == LimitedBy::kNone && config_.concurrency > 0 && e.inflight >= config_.concurrency) {
      d.by = LimitedBy::kConcurrency;  // frees when a holder releases: no time to wait for
    }
    if (d.by != LimitedBy::kNone) {
      // Nothing is charged: report what stays admissible without this request.
      if (req.allowed && !config_.requests.unlimited()) ++d.remaining_requests;
      if (tok.allowed && !config_.tokens.unlimited()) d.remaining_tokens += tokens;
      return d;
    }
    d.allowed = true;
    e.tat_requests = req.new_tat;
    e.tat_tokens = tok.new_tat;
    if (config_.concurrency > 0) ++e.inflight;
    return d;
  }

  bool release(std::string_view key, std::int64_t) override {
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
    Entry& e = s.find_or_insert(k, now);
    // A refund never moves the TAT before now (a full bucket stays full);
    // a charge saturates at kMaxTolerance past now.
    __extension__ using i128 = __int128;
    const i128 tat = static_cast<i128>(std::max(e.tat_tokens, now)) +
                     static_cast<i128>(delta) * config_.tokens.interval_ns;
    e.tat_tokens = static_cast<std::int64_t>(std::clamp<i128>(tat, now, now + kMaxTolerance));
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
