// Rate limiter checks per second on 1 and 2 threads for 1, 1 K and 1 M
// keys, in process and in shared memory, against a baseline of std::mutex +
// std::unordered_map token buckets in the same run; the memory a key costs
// at 1 M and 10 M keys; and checks per second through a local redis-server,
// one at a time and pipelined from many threads.
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "options/options.h"
#include "ratelimit/limiter.h"
#include "support/redis_server.h"

namespace {

namespace rl = llmkit::ratelimit;

std::vector<std::string> make_keys(std::size_t n) {
  std::vector<std::string> keys(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = "user-" + std::to_string(i * 2654435761u);
  return keys;
}

const std::vector<std::string>& keys(std::size_t n) {
  static std::unordered_map<std::size_t, std::vector<std::string>> cache;
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  auto& k = cache[n];
  if (k.empty()) k = make_keys(n);
  return k;
}

// One request a second and 1 M tokens a day, with bursts so large that
// nothing is refused: a check moves a key's state a second or more ahead,
// so keys stay active (not idle) for the whole run and each check does the
// full work.
rl::Config config() {
  llmkit::Options o;
  o.set("window", "86400");
  o.set("requests", "86400");
  o.set("tokens", "1000000");
  o.set("burst_requests", "1000000000");
  o.set("burst_tokens", "1000000000");
  return rl::Limiter::config_from(o);
}

// The obvious implementation: one lock, one map, a floating token bucket.
class Baseline {
 public:
  bool check(const std::string& key, double tokens) {
    const double now =
        std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    std::lock_guard<std::mutex> lock(mutex_);
    Bucket& b = buckets_[key];
    if (b.last == 0) b = {1e9, 1e9, now};
    const double refill = (now - b.last) * (1e9 / 60);
    b.requests = std::min(1e9, b.requests + refill);
    b.tokens = std::min(1e9, b.tokens + refill);
    b.last = now;
    if (b.requests < 1 || b.tokens < tokens) return false;
    b.requests -= 1;
    b.tokens -= tokens;
    return true;
  }

 private:
  struct Bucket {
    double requests = 0, tokens = 0, last = 0;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

using StoreMaker = std::function<std::unique_ptr<rl::Store>(const rl::Config&)>;

void Check(benchmark::State& state, std::size_t n, const StoreMaker& make_store) {
  static rl::Limiter* limiter = nullptr;
  const auto& k = keys(n);
  if (state.thread_index() == 0) {
    limiter = new rl::Limiter(make_store(config()), &rl::Limiter::monotonic_ns);
    for (const auto& key : k) limiter->check(key, 1);  // keys exist: steady state
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter->check(k[i++ % k.size()], 10).allowed);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["bytes/key"] =
        static_cast<double>(limiter->store().bytes()) / static_cast<double>(k.size());
    delete limiter;
  }
}

void CheckBaseline(benchmark::State& state, std::size_t n) {
  static Baseline* baseline = nullptr;
  const auto& k = keys(n);
  if (state.thread_index() == 0) {
    baseline = new Baseline();
    for (const auto& key : k) baseline->check(key, 1);
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) benchmark::DoNotOptimize(baseline->check(k[i++ % k.size()], 10));
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) delete baseline;
}

// Bytes a key costs with n active keys: tables included, key strings not
// (the limiter keeps a hash, not the key). One request a day keeps every
// key active through the run.
void BytesPerKey(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    llmkit::Options o;
    o.set("window", "86400");
    o.set("requests", "1");
    const rl::Config c = rl::Limiter::config_from(o);
    rl::Limiter l(rl::make_memory_store(c), &rl::Limiter::monotonic_ns);
    std::string key = "user-";
    for (std::size_t i = 0; i < n; ++i) {
      key.resize(5);
      key += std::to_string(i);
      l.check(key, 1);
    }
    state.counters["bytes/key"] = static_cast<double>(l.store().bytes()) / static_cast<double>(n);
    state.counters["keys"] = static_cast<double>(l.store().keys());
  }
}

}  // namespace

std::unique_ptr<rl::Store> memory_store(const rl::Config& c) {
  return rl::make_memory_store(c);
}

// A segment for 2 M keys, removed again once every process has it mapped.
std::unique_ptr<rl::Store> shm_store(const rl::Config& c) {
  const std::string name = "bench-" + std::to_string(getpid());
  llmkit::Options o;
  o.set("shm.name", name);
  o.set("shm.capacity", "2000000");
  auto store = rl::make_shm_store(c, o);
  shm_unlink(("/llmkit-" + name).c_str());
  return store;
}

// Checks through Redis: each thread waits for its answer, so one thread
// pays a round trip a check, and more threads share round trips.
void RedisCheck(benchmark::State& state) {
  static llmkit::test::RedisServer* server = nullptr;
  static rl::Limiter* limiter = nullptr;
  const auto& k = keys(1000);
  if (state.thread_index() == 0) {
    if (server == nullptr) server = new llmkit::test::RedisServer();  // lives to the end
    llmkit::Options o;
    o.set("redis.url", server->url());
    o.set("redis.prefix", "bench-" + std::to_string(state.threads()) + ":");
    rl::Config c = config();
    c.requests.burst = c.tokens.burst = 1000;  // within the Redis backend's 52 days
    limiter = new rl::Limiter(rl::make_redis_store(c, o), &rl::Limiter::monotonic_ns);
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) benchmark::DoNotOptimize(limiter->check(k[i++ % k.size()], 10).allowed);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) delete limiter;
}

// Registered by hand so each result has a "/baseline" twin for the ratio.
const bool kRegistered = [] {
  for (const std::size_t n : {1, 1000, 1000000}) {
    const std::string name = "ratelimit/check/keys:" + std::to_string(n);
    benchmark::RegisterBenchmark(name.c_str(),
                                 [n](benchmark::State& s) { Check(s, n, memory_store); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark((name + "/shm").c_str(),
                                 [n](benchmark::State& s) { Check(s, n, shm_store); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark((name + "/baseline").c_str(),
                                 [n](benchmark::State& s) { CheckBaseline(s, n); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("ratelimit/redis/check/keys:1000", RedisCheck)
      ->Threads(1)
      ->Threads(16)
      ->UseRealTime();
  return true;
}();

BENCHMARK(BytesPerKey)
    ->Name("ratelimit/memory")
    ->Arg(1000000)
    ->Arg(10000000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
