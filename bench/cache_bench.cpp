// The response cache through the C API, as a gateway calls it, against the
// textbook LRU (one mutex, std::list + std::unordered_map, values copied
// out as std::string) in the same run: hit latency p50/p99 for 1 KB and
// 100 KB requests, hits per second on 1 and 2 threads, misses + inserts per
// second with eviction running, and the bytes an entry costs beyond its
// value. Both sides key a request with llmkit_cache_key, so hashing the
// request is in every timed operation on both.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "llmkit.h"

namespace {

// ---- requests and answers --------------------------------------------------

// An OpenAI chat request: system prompt, user message, sampling settings and
// one tool. The ticket number is the field varied to make distinct keys.
constexpr std::string_view kRequestHead =
    R"({"model":"gpt-4o-mini","temperature":0,"max_tokens":512,"messages":[)"
    R"({"role":"system","content":"You are the support assistant of Acme Cloud. Answer in )"
    R"(plain English, cite the documentation page you rely on, never promise refunds."},)"
    R"({"role":"user","content":"Ticket 0000000000: )";
constexpr std::string_view kRequestTail =
    R"("}],"tools":[{"type":"function","function":{"name":"lookup_order","description":)"
    R"("Look up an order by its id: status, items and shipping address.","parameters":)"
    R"({"type":"object","properties":{"order_id":{"type":"string","description":)"
    R"("The order id, e.g. ORD-12345"}},"required":["order_id"]}}}]})";
constexpr std::string_view kRequestText =
    "My last order has not arrived and its tracking page shows no update since Monday. ";
constexpr std::size_t kRequestIdAt = kRequestHead.find("0000000000");

// A chat.completion answer; its "id" carries the ticket number, so a read
// can tell which request's answer it got.
constexpr std::string_view kAnswerHead =
    R"({"id":"chatcmpl-0000000000","object":"chat.completion","created":1735689600,)"
    R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant",)"
    R"("content":")";
constexpr std::string_view kAnswerTail =
    R"(","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":243,)"
    R"("completion_tokens":161,"total_tokens":404},"system_fingerprint":"fp_0ba0d124f1"})";
constexpr std::string_view kAnswerText =
    "Sorry for the delay. Order ORD-12345 left our warehouse on Monday; the carrier scans it "
    "again at the regional hub, usually within two days (see docs/shipping#tracking). ";
constexpr std::size_t kAnswerIdAt = kAnswerHead.find("0000000000");
constexpr std::size_t kAnswerBytes = 1024;

constexpr std::size_t kSmall = 1024;
constexpr std::size_t kLarge = 100 * 1024;
constexpr std::uint64_t kMiss = ~std::uint64_t{0};
constexpr std::uint64_t kWrongSize = kMiss - 1;  // a value read back at another size

// head + text repeated + tail, exactly `bytes` long.
std::string padded(std::string_view head, std::string_view text, std::string_view tail,
                   std::size_t bytes) {
  std::string s(head);
  while (s.size() + tail.size() < bytes) s += text;
  s.resize(std::max(head.size(), bytes - std::min(bytes, tail.size())));
  return s += tail;
}

// Writes `id` as the 10 digits at `at`.
void stamp(std::string& s, std::size_t at, std::uint64_t id) {
  for (std::size_t i = 10; i-- > 0; id /= 10) s[at + i] = static_cast<char>('0' + id % 10);
}

std::uint64_t answer_id(const char* answer) {
  std::uint64_t id = 0;
  std::from_chars(answer + kAnswerIdAt, answer + kAnswerIdAt + 10, id);
  return id;
}

// Requests 0..n-1 of `bytes` bytes each.
std::vector<std::string> requests(std::size_t bytes, std::size_t n) {
  std::vector<std::string> r;
  std::string request = padded(kRequestHead, kRequestText, kRequestTail, bytes);
  for (std::size_t i = 0; i < n; ++i) {
    stamp(request, kRequestIdAt, i);
    r.push_back(request);
  }
  return r;
}

// ---- llmkit, through its C API ---------------------------------------------

// A failing call here is a library bug, not a result: stop loudly.
void check(llmkit_status s, const char* what) {
  if (s == LLMKIT_OK) return;
  std::fprintf(stderr, "%s: %s (%s)\n", what, llmkit_status_str(s), llmkit_last_error());
  std::abort();
}

// Bounded by entries; max_bytes leaves room, so the entry bound is the one
// that binds, as in the baseline.
llmkit_cache* new_cache(std::size_t max_entries) {
  llmkit_options* o = nullptr;
  check(llmkit_options_new(&o), "llmkit_options_new");
  check(llmkit_options_set(o, "max_entries", std::to_string(max_entries).c_str()), "max_entries");
  check(llmkit_options_set(o, "max_bytes", std::to_string(max_entries * 4 * kAnswerBytes).c_str()),
        "max_bytes");
  llmkit_cache* c = nullptr;
  check(llmkit_cache_new(o, &c), "llmkit_cache_new");
  llmkit_options_free(o);
  return c;
}

using Key = std::array<char, LLMKIT_CACHE_KEY_SIZE>;

Key key_of(const llmkit_cache* c, const std::string& request) {
  Key key;
  llmkit_cache_use use;
  check(llmkit_cache_key(c, nullptr, "openai", request.data(), request.size(), nullptr, key.data(),
                         &use),
        "llmkit_cache_key");
  return key;
}

class Llmkit {
 public:
  explicit Llmkit(std::size_t max_entries) : cache_(new_cache(max_entries)) {}
  ~Llmkit() { llmkit_cache_free(cache_); }

  Key key(const std::string& request) const { return key_of(cache_, request); }
  // The id of the answer cached under `key`, or kMiss. The value is read in
  // place, as a gateway hands it to its socket: no copy.
  std::uint64_t get(const Key& key) {
    llmkit_cache_value* v = nullptr;
    check(llmkit_cache_get(cache_, key.data(), &v), "llmkit_cache_get");
    if (v == nullptr) return kMiss;
    const char* data = nullptr;
    std::size_t len = 0;
    check(llmkit_cache_value_data(v, &data, &len), "llmkit_cache_value_data");
    const std::uint64_t id = len == kAnswerBytes ? answer_id(data) : kWrongSize;
    llmkit_cache_value_free(v);
    return id;
  }
  void put(const Key& key, const std::string& answer) {
    check(llmkit_cache_put(cache_, key.data(), answer.data(), answer.size(), 0),
          "llmkit_cache_put");
  }
  std::uint64_t evictions() const { return stat("evictions"); }
  std::uint64_t bytes() const { return stat("bytes"); }  // values, keys and bookkeeping

 private:
  std::uint64_t stat(const char* name) const {
    std::uint64_t v = 0;
    check(llmkit_cache_stat(cache_, name, &v), name);
    return v;
  }

  llmkit_cache* cache_;
};

// ---- the baseline ----------------------------------------------------------

// Bytes the baseline's containers ask for, like llmkit's "bytes" (sizes
// asked for, not what malloc rounds them up to). cache/overhead only: one
// thread.
std::size_t g_counted = 0;

template <class T>
struct Counted {
  using value_type = T;
  Counted() = default;
  template <class U>
  Counted(const Counted<U>&) noexcept {}
  T* allocate(std::size_t n) {
    g_counted += n * sizeof(T);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    g_counted -= n * sizeof(T);
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const Counted<U>&) const noexcept {
    return true;
  }
};

// The textbook LRU of typical gateway code: one mutex, a list in recency
// order holding key and value, a map from key to list node; a hit moves the
// node to the front and copies the value out.
template <template <class> class A = std::allocator>
class Lru {
 public:
  explicit Lru(std::size_t capacity) : capacity_(capacity) {}

  std::optional<std::string> get(std::string_view key) {
    const Str k(key);
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = map_.find(k);
    if (it == map_.end()) return std::nullopt;
    list_.splice(list_.begin(), list_, it->second);
    return std::string(it->second->second.data(), it->second->second.size());
  }
  void put(std::string_view key, std::string_view value) {
    const Str k(key);
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = map_.find(k); it != map_.end()) {
      it->second->second.assign(value.data(), value.size());
      list_.splice(list_.begin(), list_, it->second);
      return;
    }
    list_.emplace_front(k, Str(value));
    map_.emplace(k, list_.begin());
    for (; map_.size() > capacity_; ++evictions_) {
      map_.erase(list_.back().first);
      list_.pop_back();
    }
  }
  std::uint64_t evictions() const { return evictions_; }

 private:
  using Str = std::basic_string<char, std::char_traits<char>, A<char>>;
  using List = std::list<std::pair<Str, Str>, A<std::pair<Str, Str>>>;
  struct Hash {
    std::size_t operator()(const Str& s) const noexcept {
      return std::hash<std::string_view>()(std::string_view(s));
    }
  };

  const std::size_t capacity_;
  std::mutex mutex_;
  List list_;
  std::unordered_map<Str, typename List::iterator, Hash, std::equal_to<Str>,
                     A<std::pair<const Str, typename List::iterator>>>
      map_;
  std::uint64_t evictions_ = 0;
};

// The baseline keyed like llmkit: a cache used only for llmkit_cache_key.
template <template <class> class A = std::allocator>
class Baseline {
 public:
  explicit Baseline(std::size_t max_entries)
      : keys_(new_cache(1)), counted_(g_counted), lru_(max_entries) {}
  ~Baseline() { llmkit_cache_free(keys_); }

  Key key(const std::string& request) const { return key_of(keys_, request); }
  std::uint64_t get(const Key& key) {
    const auto answer = lru_.get(key.data());
    if (!answer) return kMiss;
    return answer->size() == kAnswerBytes ? answer_id(answer->data()) : kWrongSize;
  }
  void put(const Key& key, const std::string& answer) { lru_.put(key.data(), answer); }
  std::uint64_t evictions() const { return lru_.evictions(); }
  std::uint64_t bytes() const { return g_counted - counted_; }  // with Counted only

 private:
  llmkit_cache* keys_;
  const std::size_t counted_;
  Lru<A> lru_;
};

// ---- benchmarks ------------------------------------------------------------

// Caches the answer of each request; request i's answer has id i.
template <class Side>
void fill(Side& side, const std::vector<std::string>& reqs) {
  std::string answer = padded(kAnswerHead, kAnswerText, kAnswerTail, kAnswerBytes);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    stamp(answer, kAnswerIdAt, i);
    side.put(side.key(reqs[i]), answer);
  }
}

// A hit on a warm cache: key the request, look it up, read the answer, free
// it; cycling through `n` cached requests of `bytes` bytes. Each latency
// goes into memory taken before the loop (and includes one steady_clock
// read, ~20 ns); the percentiles are taken after it.
template <class Side>
void Hit(benchmark::State& state, std::size_t bytes, std::size_t n) {
  using Clock = std::chrono::steady_clock;
  const auto reqs = requests(bytes, n);
  Side side(4 * n);  // room to spare: no shard evicts
  fill(side, reqs);
  std::vector<std::int64_t> ns(static_cast<std::size_t>(state.max_iterations));
  std::size_t done = 0;
  for (auto _ : state) {
    const std::size_t i = done % n;
    const auto start = Clock::now();
    const std::uint64_t id = side.get(side.key(reqs[i]));
    ns[done++] = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    if (id != i) {
      state.SkipWithError("a warm cache missed, or answered another request");
      break;
    }
  }
  std::sort(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(done));
  state.counters["p50_ns"] = static_cast<double>(ns[done / 2]);
  state.counters["p99_ns"] = static_cast<double>(ns[done * 99 / 100]);
}

// Hits per second from every thread on one cache of 10 k entries, each
// thread going round its own offset into the requests: on 2 threads, the
// baseline's one mutex against llmkit's per-shard locks.
template <class Side>
void Hits(benchmark::State& state) {
  static Side* side = nullptr;
  static const auto reqs = requests(kSmall, 10'000);
  if (state.thread_index() == 0) {
    side = new Side(4 * reqs.size());
    fill(*side, reqs);
  }
  std::size_t i = reqs.size() * static_cast<std::size_t>(state.thread_index()) /
                  static_cast<std::size_t>(state.threads());
  for (auto _ : state) {
    if (side->get(side->key(reqs[i])) != i) {
      state.SkipWithError("a warm cache missed, or answered another request");
      break;
    }
    i = i + 1 == reqs.size() ? 0 : i + 1;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) delete side;
}

// A miss and the insert that follows it, each on a fresh request, into a
// cache held full at 10 k entries: every insert evicts.
template <class Side>
void MissInsert(benchmark::State& state) {
  constexpr std::size_t kCapacity = 10'000;
  Side side(kCapacity);
  std::string request = padded(kRequestHead, kRequestText, kRequestTail, kSmall);
  std::string answer = padded(kAnswerHead, kAnswerText, kAnswerTail, kAnswerBytes);
  std::uint64_t id = 0;
  for (; id < 2 * kCapacity; ++id) {
    stamp(request, kRequestIdAt, id);
    side.put(side.key(request), answer);
  }
  const std::uint64_t evicted = side.evictions();
  for (auto _ : state) {
    stamp(request, kRequestIdAt, ++id);
    const Key key = side.key(request);
    if (side.get(key) != kMiss) {
      state.SkipWithError("a fresh request hit");
      break;
    }
    side.put(key, answer);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["evictions/op"] =
      static_cast<double>(side.evictions() - evicted) /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}

// Bytes an entry costs beyond its 1 KB value, with 100 k entries held:
// llmkit by its "bytes" statistic, the baseline by what its containers ask
// the allocator for (Counted). Neither counts the allocator's own rounding.
// The counter is the result; the time is that of the 100 k inserts.
template <class Side>
void Overhead(benchmark::State& state) {
  constexpr std::size_t kEntries = 100'000;
  for (auto _ : state) {
    Side side(2 * kEntries);
    std::string request = padded(kRequestHead, kRequestText, kRequestTail, kSmall);
    const std::string answer = padded(kAnswerHead, kAnswerText, kAnswerTail, kAnswerBytes);
    for (std::uint64_t id = 0; id < kEntries; ++id) {
      stamp(request, kRequestIdAt, id);
      side.put(side.key(request), answer);
    }
    if (side.evictions() != 0) state.SkipWithError("evicted below its bounds");
    state.counters["bytes/entry"] =
        static_cast<double>(side.bytes() - kEntries * kAnswerBytes) / kEntries;
  }
}

// Registered by hand so each result has a "/baseline" twin for the ratio.
const bool kRegistered = [] {
  for (const auto& [label, bytes, n] : {std::tuple{"1KB", kSmall, std::size_t{1000}},
                                        std::tuple{"100KB", kLarge, std::size_t{64}}}) {
    const std::string name = std::string("cache/hit/") + label;
    benchmark::RegisterBenchmark(name.c_str(),
                                 [b = bytes, k = n](benchmark::State& s) { Hit<Llmkit>(s, b, k); });
    benchmark::RegisterBenchmark(
        (name + "/baseline").c_str(),
        [b = bytes, k = n](benchmark::State& s) { Hit<Baseline<>>(s, b, k); });
  }
  benchmark::RegisterBenchmark("cache/hits", Hits<Llmkit>)->Threads(1)->Threads(2)->UseRealTime();
  benchmark::RegisterBenchmark("cache/hits/baseline", Hits<Baseline<>>)
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cache/miss_insert", MissInsert<Llmkit>);
  benchmark::RegisterBenchmark("cache/miss_insert/baseline", MissInsert<Baseline<>>);
  benchmark::RegisterBenchmark("cache/overhead", Overhead<Llmkit>)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("cache/overhead/baseline", Overhead<Baseline<Counted>>)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
