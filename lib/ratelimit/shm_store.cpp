// The "shm" backend: one limit shared by every process on the host that
// opens the same shm.name, with the arithmetic of the in-process store on
// tables in shared memory (ratelimit/shm_segment.h).
#include <pthread.h>

#include <atomic>
#include <mutex>
#include <string>

#include "core/error.h"
#include "core/utf8.h"
#include "ratelimit/entry.h"
#include "ratelimit/limiter.h"
#include "ratelimit/shm_segment.h"

namespace llmkit::ratelimit {

namespace {

// Counts fork()s, so a store used in a child process notices that it is
// not the process whose slot it claimed.
std::atomic<std::uint64_t> g_forks{0};
extern "C" void count_fork() {
  g_forks.fetch_add(1, std::memory_order_relaxed);
}

constexpr std::int64_t kReapEveryNs = 10'000'000;

// A table may be 80% full; linear probing slows past that.
bool full(std::uint64_t used, std::size_t slots) {
  return (used + 1) * 5 > slots * 4;
}

class ShmStore final : public Store {
 public:
  ShmStore(const Config& c, const std::string& name, std::size_t capacity)
      : config_(c), name_(name), segment_(name, c, capacity) {
    static std::once_flag once;
    std::call_once(once, [] { pthread_atfork(nullptr, nullptr, &count_fork); });
    forks_ = g_forks.load();
    proc_ = segment_.claim_process();
  }

  ~ShmStore() override {
    // A child that never used the store must leave its parent's slot alone.
    if (forks_.load() != g_forks.load()) return;
    // Nobody can release this store's slots any more: give them back.
    try {
      segment_.reap(proc_.load());
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor cannot report it
    }
    segment_.unclaim_process(proc_.load());
  }

  ShmStore(const ShmStore&) = delete;
  ShmStore& operator=(const ShmStore&) = delete;

  Decision admit(std::string_view key, std::int64_t tokens, std::int64_t now) override {
    const std::uint32_t proc = attached();
    const KeyHash k = hash_key(key);
    const ShmSegment::Shard s = shard(k);
    Decision d = admit_in(s, k, proc, tokens, now);
    // A dead process may hold the slots: free them and ask again.
    if (d.by == LimitedBy::kConcurrency && reap(now)) d = admit_in(s, k, proc, tokens, now);
    return d;
  }

  bool release(std::string_view key, std::int64_t) override {
    const std::uint32_t proc = attached();
    const KeyHash k = hash_key(key);
    const ShmSegment::Shard s = shard(k);
    if (s.hold_table.empty()) return false;
    ShardLock lock(s);
    Hold* h = find_hold(s, k, proc);
    if (h == nullptr) return false;
    if (Entry* e = find_entry(s.entries, k); e != nullptr && e->inflight > 0) --e->inflight;
    if (--h->count == 0) {
      erase_slot(s.hold_table, static_cast<std::size_t>(h - s.hold_table.data()));
      --*s.holds;
    }
    segment_.held(proc).fetch_sub(1);
    return true;
  }

  void adjust_tokens(std::string_view key, std::int64_t delta, std::int64_t now) override {
    if (config_.tokens.unlimited() || delta == 0) return;
    attached();
    const KeyHash k = hash_key(key);
    const ShmSegment::Shard s = shard(k);
    ShardLock lock(s);
    ratelimit::adjust_tokens(config_.tokens, entry(s, k, now), delta, now);
  }

  std::size_t keys() const override {
    std::size_t n = 0;
    for (std::size_t i = 0; i < ShmSegment::kShards; ++i) {
      const ShmSegment::Shard s = segment_.shard(i);
      ShardLock lock(s);
      n += *s.keys;
    }
    return n;
  }

  std::size_t bytes() const override { return segment_.size(); }

 private:
  ShmSegment::Shard shard(const KeyHash& k) const {
    return segment_.shard(k.hash & (ShmSegment::kShards - 1));
  }

  // This process's slot, claimed anew in a child after fork().
  std::uint32_t attached() {
    if (forks_.load(std::memory_order_relaxed) == g_forks.load(std::memory_order_relaxed)) {
      return proc_.load(std::memory_order_relaxed);
    }
    std::lock_guard<std::mutex> lock(attach_mutex_);
    const std::uint64_t forks = g_forks.load();
    if (forks_.load() != forks) {
      segment_.reopen();
      proc_.store(segment_.claim_process());
      forks_.store(forks);
    }
    return proc_.load();
  }

  Decision admit_in(const ShmSegment::Shard& s, const KeyHash& k, std::uint32_t proc,
                    std::int64_t tokens, std::int64_t now) {
    ShardLock lock(s);
    Entry& e = entry(s, k, now);
    Hold* h = nullptr;
    if (config_.concurrency > 0) {
      h = find_hold(s, k, proc);
      if (h == nullptr && full(*s.holds, s.hold_table.size())) {
        fail(LLMKIT_OUT_OF_MEMORY, "the shared rate limiter " + utf8::quote(name_) +
                                       " has no room for more keys holding slots: raise "
                                       "shm.capacity");
      }
    }
    const Decision d = ratelimit::admit(config_, e, tokens, now);
    if (d.allowed && config_.concurrency > 0) {
      if (h == nullptr) {
        h = &s.hold_table[free_slot(s.hold_table, probe_hash(Hold{k.hash, k.check, proc, 0}))];
        *h = Hold{k.hash, k.check, proc, 0};
        ++*s.holds;
      }
      ++h->count;
      segment_.held(proc).fetch_add(1);
    }
    return d;
  }

  // The entry of `k`, created when absent. When the shard is full, idle
  // keys make room; when none is idle, OUT_OF_MEMORY.
  Entry& entry(const ShmSegment::Shard& s, const KeyHash& k, std::int64_t now) {
    if (Entry* e = find_entry(s.entries, k)) return *e;
    if (full(*s.keys, s.entries.size())) {
      for (std::size_t i = 0; i < s.entries.size();) {
        if (s.entries[i].hash != 0 && s.entries[i].idle(now)) {
          erase_slot(s.entries, i);  // moves a later entry here: look again
          --*s.keys;
        } else {
          ++i;
        }
      }
      if (full(*s.keys, s.entries.size())) {
        fail(LLMKIT_OUT_OF_MEMORY, "the shared rate limiter " + utf8::quote(name_) +
                                       " is full of active keys: raise shm.capacity");
      }
    }
    Entry& e = s.entries[free_slot(s.entries, k.hash)];
    e = Entry{k.hash, k.check, 0, 0, 0};
    ++*s.keys;
    return e;
  }

  static Hold* find_hold(const ShmSegment::Shard& s, const KeyHash& k, std::uint32_t proc) {
    return find_slot(s.hold_table, probe_hash(Hold{k.hash, k.check, proc, 0}),
                     [&](const Hold& h) { return h.holds(k, proc); });
  }

  // Frees what dead processes held, at most once per kReapEveryNs: it
  // costs a system call per process holding slots. True when it ran.
  bool reap(std::int64_t now) {
    std::int64_t last = last_reap_.load(std::memory_order_relaxed);
    if (now - last < kReapEveryNs || !last_reap_.compare_exchange_strong(last, now)) return false;
    return segment_.reap_dead(proc_.load()) > 0;
  }

  Config config_;
  std::string name_;
  ShmSegment segment_;
  std::atomic<std::uint64_t> forks_{0};
  std::atomic<std::uint32_t> proc_{0};
  std::mutex attach_mutex_;
  std::atomic<std::int64_t> last_reap_{INT64_MIN / 2};
};

}  // namespace

std::unique_ptr<Store> make_shm_store(const Config& config, const Options& o) {
  const String* name = o.find("shm.name");
  if (name == nullptr) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "the shm backend needs option 'shm.name': every process using the same name shares one "
         "limit");
  }
  const std::string_view n(name->data(), name->size());
  const bool valid = !n.empty() && n.size() <= 200 &&
                     n.find_first_not_of(
                         "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789._-") == std::string_view::npos;
  if (!valid) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "option 'shm.name' must be 1 to 200 letters, digits, '.', '_' or "
         "'-', got " +
             utf8::quote(n));
  }
  const std::int64_t capacity = o.get_int("shm.capacity").value_or(65536);
  if (capacity < 1 || capacity > (std::int64_t{1} << 32)) {
    fail(LLMKIT_INVALID_ARGUMENT, "option 'shm.capacity' must be 1 to 2^32 keys");
  }
  return std::make_unique<ShmStore>(config, std::string(n), static_cast<std::size_t>(capacity));
}

}  // namespace llmkit::ratelimit
