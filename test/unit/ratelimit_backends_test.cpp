// The rate limiter's three backends (memory, shm, redis) through the C API:
// the same behaviour from each, one limit across processes for the shared
// ones, and what happens when a process or Redis dies.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "llmkit.h"
#include "options/options.h"
#include "ratelimit/limiter.h"
#include "ratelimit/shm_segment.h"
#include "redis/client.h"
#include "support/process.h"
#include "support/redis_server.h"

namespace {

using Opts = std::map<std::string, std::string>;
using llmkit::test::Process;
using llmkit::test::RedisServer;

// One server for the tests of this process that do not stop it.
RedisServer& shared_redis() {
  static RedisServer server;
  return server;
}

// A name no other test process uses.
std::string unique_name() {
  static std::atomic<int> n{0};
  return "test-" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

// Removes a test's shared-memory segment when the test ends.
struct ShmName {
  std::string name = unique_name();
  ~ShmName() { shm_unlink(("/llmkit-" + name).c_str()); }
};

// The options that put a limiter on `backend`, for a fresh shared limit.
Opts backend_options(const std::string& backend, const std::string& name) {
  if (backend == "shm") return {{"backend", "shm"}, {"shm.name", name}};
  if (backend == "redis") {
    return {
        {"backend", "redis"}, {"redis.url", shared_redis().url()}, {"redis.prefix", name + ":"}};
  }
  return {};
}

class Limiter {
 public:
  explicit Limiter(const Opts& opts) {
    llmkit_options* o = nullptr;
    llmkit_options_new(&o);
    for (const auto& [k, v] : opts) llmkit_options_set(o, k.c_str(), v.c_str());
    status_ = llmkit_ratelimiter_new(o, &rl_);
    llmkit_options_free(o);
  }
  ~Limiter() { llmkit_ratelimiter_free(rl_); }
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  llmkit_status status() const { return status_; }
  llmkit_ratelimiter* get() const { return rl_; }

  struct Result {
    llmkit_status status;
    bool allowed;
    std::int64_t retry_ms, requests, tokens;
  };
  Result check(std::string_view key, std::uint64_t tokens = 0) const {
    int allowed = -1;
    Result r{};
    r.status = llmkit_ratelimiter_check(rl_, key.data(), key.size(), tokens, &allowed, &r.retry_ms,
                                        &r.requests, &r.tokens);
    r.allowed = allowed == 1;
    return r;
  }
  bool allowed(std::string_view key, std::uint64_t tokens = 0) const {
    const Result r = check(key, tokens);
    EXPECT_EQ(r.status, LLMKIT_OK) << llmkit_last_error();
    return r.allowed;
  }
  llmkit_status release(std::string_view key) const {
    return llmkit_ratelimiter_release(rl_, key.data(), key.size());
  }
  llmkit_status reconcile(std::string_view key, std::uint64_t reserved,
                          std::uint64_t actual) const {
    return llmkit_ratelimiter_reconcile(rl_, key.data(), key.size(), reserved, actual);
  }
  llmkit_status acquire(std::string_view key, std::int64_t timeout_ms,
                        std::uint64_t tokens = 0) const {
    return llmkit_ratelimiter_acquire(rl_, key.data(), key.size(), tokens, timeout_ms, nullptr);
  }
  std::uint64_t stat(const char* name) const {
    std::uint64_t v = 0;
    EXPECT_EQ(llmkit_ratelimiter_stat(rl_, name, &v), LLMKIT_OK);
    return v;
  }

 private:
  llmkit_ratelimiter* rl_ = nullptr;
  llmkit_status status_;
};

// ---- The same behaviour from every backend ---------------------------------

class EveryBackend : public testing::TestWithParam<std::string> {
 protected:
  // A limiter with `limits` on this test's fresh shared limit.
  std::unique_ptr<Limiter> make(const Opts& limits) {
    Opts o = backend_options(GetParam(), shm_.name);
    o.insert(limits.begin(), limits.end());
    auto l = std::make_unique<Limiter>(o);
    EXPECT_EQ(l->status(), LLMKIT_OK) << llmkit_last_error();
    return l;
  }
  ShmName shm_;
};

TEST_P(EveryBackend, RequestsLimitAdmitsTheBurstThenSaysWhenToRetry) {
  auto l = make({{"requests", "10"}});  // a minute: one every 6 s
  for (int i = 0; i < 10; ++i) {
    const auto r = l->check("user");
    ASSERT_TRUE(r.allowed) << i;
    EXPECT_EQ(r.requests, 9 - i);
    EXPECT_EQ(r.tokens, INT64_MAX);
  }
  const auto refused = l->check("user");
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_ms, 5'000);
  EXPECT_LE(refused.retry_ms, 6'000);
  EXPECT_EQ(refused.requests, 0);
  EXPECT_TRUE(l->allowed("another user"));
  EXPECT_EQ(l->stat("allowed"), 11u);
  EXPECT_EQ(l->stat("limited"), 1u);
}

TEST_P(EveryBackend, TokensAreChargedWithTheRequestOrNotAtAll) {
  auto l = make({{"requests", "100"}, {"tokens", "1000"}});
  ASSERT_TRUE(l->allowed("k", 900));
  const auto refused = l->check("k", 200);  // 100 left
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.requests, 99);  // the refused request was not charged
  EXPECT_EQ(refused.tokens, 100);
  EXPECT_GT(refused.retry_ms, 5'000);  // 100 tokens at 1000 a minute
  EXPECT_LE(refused.retry_ms, 6'000);
  const auto never = l->check("k", 1001);
  EXPECT_FALSE(never.allowed);
  EXPECT_EQ(never.retry_ms, -1);
  EXPECT_EQ(l->acquire("k", 1000, 1001), LLMKIT_RATE_LIMITED);
  EXPECT_TRUE(l->allowed("k", 100));
}

TEST_P(EveryBackend, ConcurrencySlotsAreHeldUntilReleased) {
  auto l = make({{"concurrency", "2"}});
  EXPECT_TRUE(l->allowed("k"));
  EXPECT_TRUE(l->allowed("k"));
  const auto full = l->check("k");
  EXPECT_FALSE(full.allowed);
  EXPECT_EQ(full.retry_ms, 0);
  EXPECT_EQ(l->release("k"), LLMKIT_OK);
  EXPECT_TRUE(l->allowed("k"));
  EXPECT_EQ(l->release("k"), LLMKIT_OK);
  EXPECT_EQ(l->release("k"), LLMKIT_OK);
  EXPECT_EQ(l->release("k"), LLMKIT_NOT_FOUND);
  EXPECT_EQ(l->release("nobody"), LLMKIT_NOT_FOUND);
}

TEST_P(EveryBackend, ReconcileRefundsAndChargesTheDifference) {
  auto l = make({{"tokens", "1000"}, {"window", "3600"}});
  ASSERT_TRUE(l->allowed("k", 800));  // an estimate
  ASSERT_EQ(l->reconcile("k", 800, 300), LLMKIT_OK);
  EXPECT_EQ(l->check("k").tokens, 700);
  ASSERT_EQ(l->reconcile("k", 0, 650), LLMKIT_OK);  // used 650 more than reserved
  EXPECT_EQ(l->check("k").tokens, 50);
  ASSERT_EQ(l->reconcile("k", 0, 5000), LLMKIT_OK);  // far over: in debt
  EXPECT_FALSE(l->check("k", 1).allowed);
  ASSERT_EQ(l->reconcile("k", 1'000'000, 0), LLMKIT_OK);  // never more than a full bucket
  EXPECT_EQ(l->check("k").tokens, 1000);
}

TEST_P(EveryBackend, AnyBytesAreAKey) {
  auto l = make({{"requests", "1"}, {"window", "3600"}});
  const std::string big(1 << 20, 'x');
  const std::string binary("\0\xff\x01{}", 5);
  for (const std::string& key : {std::string(), big, binary, std::string("{tag}")}) {
    EXPECT_TRUE(l->allowed(key)) << key.size();
    EXPECT_FALSE(l->allowed(key)) << key.size();
  }
}

TEST_P(EveryBackend, AcquireWaitsForTheNextRequest) {
  auto l = make({{"requests", "20"}, {"window", "1"}, {"burst_requests", "1"}});
  ASSERT_EQ(l->acquire("k", 0), LLMKIT_OK);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(l->acquire("k", 2000), LLMKIT_OK);  // 50 ms later
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));
  EXPECT_EQ(l->acquire("k", 1), LLMKIT_TIMEOUT);
}

// Threads of one process: never more than the burst plus what the rate
// emits while they run.
TEST_P(EveryBackend, ThreadsNeverGetMoreThanTheLimit) {
  auto l = make({{"requests", "2000"}, {"window", "1"}, {"burst_requests", "100"}});
  std::atomic<std::int64_t> admitted{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500)) {
        admitted += l->allowed("shared") ? 1 : 0;
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const std::int64_t bound =
      100 + std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() / 500 + 1;
  EXPECT_LE(admitted.load(), bound);
  EXPECT_GE(admitted.load(), bound / 2);  // and it does not starve them (loose: ASan, load)
}

INSTANTIATE_TEST_SUITE_P(Backends, EveryBackend, testing::Values("memory", "shm", "redis"),
                         [](const auto& p) { return p.param; });

// ---- One limit across processes --------------------------------------------

class SharedBackend : public EveryBackend {
 protected:
  // The worker's arguments after its mode, then the options.
  std::vector<std::string> worker(std::vector<std::string> args, const Opts& limits) {
    args.insert(args.begin(), LLMKIT_RATELIMIT_WORKER);
    Opts o = backend_options(GetParam(), shm_.name);
    o.insert(limits.begin(), limits.end());
    for (const auto& [k, v] : o) args.push_back(k + "=" + v);
    return args;
  }
};

TEST_P(SharedBackend, ProcessesHammeringOneKeyNeverGetMoreThanTheLimit) {
  const Opts limits{{"requests", "1000"}, {"window", "1"}, {"burst_requests", "50"}};
  const int processes = GetParam() == "shm" ? 4 : 2;
  std::vector<std::unique_ptr<Process>> workers;
  for (int i = 0; i < processes; ++i) {
    workers.push_back(std::make_unique<Process>(worker({"hammer", "0", "1000", "shared"}, limits)));
  }
  // Each prints "c ADMITTED FIRST LAST", times in microseconds.
  std::int64_t admitted = 0, first = INT64_MAX, last = 0;
  for (auto& w : workers) {
    std::istringstream line(w->read_line());
    std::string c;
    std::int64_t n = 0, f = 0, l = 0;
    line >> c >> n >> f >> l;
    admitted += n;
    first = std::min(first, f);
    last = std::max(last, l);
  }
  for (auto& w : workers) EXPECT_EQ(w->wait(), 0);
  // One request a millisecond from the first check to the last, plus the burst.
  const std::int64_t bound = 50 + (last - first) / 1000 + 1;
  EXPECT_LE(admitted, bound);
  EXPECT_GE(admitted, 1000 / 2);  // and the limit is shared, not starved (loose: ASan, load)
}

TEST_P(SharedBackend, SlotsOfAKilledProcessComeBack) {
  Opts limits{{"concurrency", "2"}};
  // Redis slots are leases: one second here, renewed while the holder lives.
  if (GetParam() == "redis") limits["redis.lease"] = "1";
  Process holder(worker({"hold", "2", "shared"}, limits));
  ASSERT_EQ(holder.read_line(), "held");
  Opts mine = backend_options(GetParam(), shm_.name);
  mine.insert(limits.begin(), limits.end());
  Limiter l(mine);
  ASSERT_EQ(l.status(), LLMKIT_OK) << llmkit_last_error();
  EXPECT_FALSE(l.allowed("shared"));
  if (GetParam() == "redis") {
    // Past its first lease, the living holder still has both slots.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_FALSE(l.allowed("shared"));
  }
  holder.kill_now();
  EXPECT_EQ(l.acquire("shared", 5000), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(l.acquire("shared", 5000), LLMKIT_OK) << llmkit_last_error();
  EXPECT_FALSE(l.allowed("shared"));
}

INSTANTIATE_TEST_SUITE_P(Backends, SharedBackend, testing::Values("shm", "redis"),
                         [](const auto& p) { return p.param; });

// ---- Shared memory ---------------------------------------------------------------

TEST(ShmBackend, AProcessThatDiesHoldingALockWedgesNobody) {
  ShmName shm;
  Limiter l({{"backend", "shm"}, {"shm.name", shm.name}, {"requests", "5"}});
  ASSERT_EQ(l.status(), LLMKIT_OK) << llmkit_last_error();
  ASSERT_TRUE(l.allowed("k"));
  llmkit::Options o;
  o.set("requests", "5");
  const auto config = llmkit::ratelimit::Limiter::config_from(o);
  const pid_t child = fork();
  if (child == 0) {
    // Take every shard's lock and die with them held.
    llmkit::ratelimit::ShmSegment segment(shm.name, config, 65536);
    for (std::size_t i = 0; i < llmkit::ratelimit::ShmSegment::kShards; ++i) {
      pthread_mutex_lock(segment.shard(i).mutex);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(l.check("k").requests, 3);  // the state survived
  EXPECT_EQ(l.stat("keys"), 1u);
}

TEST(ShmBackend, EveryProcessMustUseTheSameLimits) {
  ShmName shm;
  Limiter a({{"backend", "shm"}, {"shm.name", shm.name}, {"requests", "5"}});
  ASSERT_EQ(a.status(), LLMKIT_OK);
  Limiter b({{"backend", "shm"}, {"shm.name", shm.name}, {"requests", "6"}});
  EXPECT_EQ(b.status(), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("other limits"), std::string::npos);
  Limiter c({{"backend", "shm"}, {"shm.name", shm.name}, {"requests", "5"}});
  EXPECT_EQ(c.status(), LLMKIT_OK);
  ASSERT_TRUE(a.allowed("k"));
  EXPECT_EQ(c.check("k").requests, 3);  // one limit, seen by both
}

TEST(ShmBackend, AFullTableRefusesNewKeysUntilSomeGoIdle) {
  ShmName shm;
  // One request a second: a key stays active for a second after it.
  Limiter l({{"backend", "shm"},
             {"shm.name", shm.name},
             {"shm.capacity", "64"},
             {"requests", "1"},
             {"window", "1"}});
  ASSERT_EQ(l.status(), LLMKIT_OK);
  llmkit_status full = LLMKIT_OK;
  int keys = 0;
  for (; keys < 100'000 && full == LLMKIT_OK; ++keys) full = l.check(std::to_string(keys)).status;
  EXPECT_EQ(full, LLMKIT_OUT_OF_MEMORY);
  EXPECT_NE(std::string(llmkit_last_error()).find("shm.capacity"), std::string::npos);
  EXPECT_GE(keys, 64);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // every key is idle again
  EXPECT_TRUE(l.allowed(std::to_string(keys - 1)));
}

TEST(ShmBackend, AForkedChildHasItsOwnSlotsAndLeavesItsParentsAlone) {
  ShmName shm;
  Limiter l({{"backend", "shm"}, {"shm.name", shm.name}, {"concurrency", "1"}});
  ASSERT_TRUE(l.allowed("k"));
  const pid_t child = fork();
  if (child == 0) {
    // The parent's slot is not the child's to release, and stays taken.
    const bool ok = l.release("k") == LLMKIT_NOT_FOUND && !l.allowed("k") &&
                    l.check("other").allowed && l.release("other") == LLMKIT_OK;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(l.allowed("k"));  // the child's exit gave back nothing of ours
  EXPECT_EQ(l.release("k"), LLMKIT_OK);
  EXPECT_TRUE(l.allowed("k"));
}

TEST(ShmBackend, OptionsAreChecked) {
  EXPECT_EQ(Limiter({{"backend", "shm"}, {"requests", "1"}}).status(), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("shm.name"), std::string::npos);
  EXPECT_EQ(Limiter({{"backend", "shm"}, {"shm.name", "../etc"}, {"requests", "1"}}).status(),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(
      Limiter({{"backend", "shm"}, {"shm.name", "x"}, {"shm.capacity", "0"}, {"requests", "1"}})
          .status(),
      LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(
      Limiter(
          {{"backend", "shm"}, {"shm.name", "x"}, {"redis.url", "redis://h"}, {"requests", "1"}})
          .status(),
      LLMKIT_INVALID_ARGUMENT);
}

// ---- Redis ---------------------------------------------------------------------------

Opts redis_options(const RedisServer& server, const std::string& on_error) {
  return {
      {"backend", "redis"},         {"redis.url", server.url()}, {"redis.prefix", unique_name()},
      {"redis.on_error", on_error}, {"requests", "2"},           {"window", "3600"},
      {"redis.timeout_ms", "200"}};
}

// Retries until Redis answers again: the client waits out a back-off first.
bool answers_again(const Limiter& l) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto before = l.stat("backend_errors");
    l.check("probe");
    if (l.stat("backend_errors") == before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(RedisBackend, FailingClosedRefusesWhileRedisIsDown) {
  RedisServer server;
  Limiter l(redis_options(server, "closed"));
  ASSERT_TRUE(l.allowed("k"));
  server.stop();
  const auto r = l.check("k");
  EXPECT_EQ(r.status, LLMKIT_UNAVAILABLE);
  EXPECT_NE(std::string(llmkit_last_error()).find("redis"), std::string::npos);
  EXPECT_EQ(l.check("k").status, LLMKIT_UNAVAILABLE);  // at once, during the back-off
  EXPECT_GE(l.stat("backend_errors"), 2u);
  server.start();  // empty: the limits start over
  ASSERT_TRUE(answers_again(l));
  EXPECT_TRUE(l.allowed("k"));
  EXPECT_TRUE(l.allowed("k"));
  EXPECT_FALSE(l.allowed("k"));
}

TEST(RedisBackend, FailingOpenAdmitsWhileRedisIsDown) {
  RedisServer server;
  Limiter l(redis_options(server, "open"));
  ASSERT_TRUE(l.allowed("k"));
  ASSERT_TRUE(l.allowed("k"));
  ASSERT_FALSE(l.allowed("k"));
  server.stop();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(l.allowed("k"));
  EXPECT_EQ(l.stat("backend_errors"), 5u);
}

TEST(RedisBackend, FallingBackToLocalKeepsALimitWhileRedisIsDown) {
  RedisServer server;
  Limiter l(redis_options(server, "local"));
  ASSERT_TRUE(l.allowed("k"));
  server.stop();
  EXPECT_TRUE(l.allowed("k"));  // the local limiter starts fresh: 2 an hour
  EXPECT_TRUE(l.allowed("k"));
  EXPECT_FALSE(l.allowed("k"));
  EXPECT_EQ(l.stat("backend_errors"), 3u);
  server.start();  // empty: Redis decides again, and "k" starts over
  ASSERT_TRUE(answers_again(l));
  EXPECT_TRUE(l.allowed("k"));
  EXPECT_TRUE(l.allowed("k"));
  EXPECT_FALSE(l.allowed("k"));
}

TEST(RedisBackend, UnreachableAtStartIsAnErrorOnlyWhenUsed) {
  RedisServer server;
  const Opts o = redis_options(server, "closed");
  server.stop();
  Limiter l(o);
  ASSERT_EQ(l.status(), LLMKIT_OK);
  EXPECT_EQ(l.check("k").status, LLMKIT_UNAVAILABLE);
  EXPECT_EQ(l.acquire("k", 1000), LLMKIT_UNAVAILABLE);
}

TEST(RedisBackend, ReloadsItsScriptWhenRedisForgetsIt) {
  Limiter l(redis_options(shared_redis(), "closed"));
  ASSERT_TRUE(l.allowed("k"));
  llmkit::redis::Client admin(llmkit::redis::Endpoint::parse(shared_redis().url()),
                              std::chrono::seconds(1));
  const std::string_view flush[] = {"SCRIPT", "FLUSH"};
  ASSERT_EQ(admin.run(flush).type, llmkit::redis::Reply::Type::kStatus);
  EXPECT_TRUE(l.allowed("k"));
  EXPECT_FALSE(l.allowed("k"));
  EXPECT_EQ(l.stat("backend_errors"), 0u);
}

TEST(RedisBackend, OptionsAreChecked) {
  auto status = [](Opts o) { return Limiter(o).status(); };
  const Opts base{{"backend", "redis"}, {"requests", "10"}};
  auto with = [&](const char* k, const char* v) {
    Opts o = base;
    o[k] = v;
    return o;
  };
  EXPECT_EQ(status(with("redis.url", "http://x")), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status(with("redis.url", "redis://h:99999")), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status(with("redis.on_error", "sometimes")), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status(with("redis.timeout_ms", "0")), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status(with("redis.lease", "0")), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status(with("shm.name", "x")), LLMKIT_INVALID_ARGUMENT);
  Opts yearly = with("window", "31536000");  // a year's burst: past Lua's exact range
  EXPECT_EQ(status(yearly), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("52 days"), std::string::npos);
  EXPECT_EQ(status(with("window", "2592000")), LLMKIT_OK);  // a month is fine
}

TEST(RedisEndpoint, ParsesUrls) {
  using llmkit::redis::Endpoint;
  const Endpoint a = Endpoint::parse("redis://10.0.0.1");
  EXPECT_EQ(a.host, "10.0.0.1");
  EXPECT_EQ(a.port, 6379);
  const Endpoint b = Endpoint::parse("redis://app:p%40ss@cache.internal:6380/3");
  EXPECT_EQ(b.user, "app");
  EXPECT_EQ(b.password, "p@ss");
  EXPECT_EQ(b.host, "cache.internal");
  EXPECT_EQ(b.port, 6380);
  EXPECT_EQ(b.db, 3);
  const Endpoint c = Endpoint::parse("redis://:secret@[::1]:7000");
  EXPECT_EQ(c.password, "secret");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 7000);
  const Endpoint d = Endpoint::parse("unix:///run/redis.sock?db=2");
  EXPECT_EQ(d.socket_path, "/run/redis.sock");
  EXPECT_EQ(d.db, 2);
  for (const char* bad : {"", "redis://", "redis://h:x", "redis://[::1", "unix://relative",
                          "redis://h/notanumber", "redis://a%4@h"}) {
    try {
      Endpoint::parse(bad);
      ADD_FAILURE() << bad;
    } catch (const llmkit::Error& e) {
      EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT) << bad;
    }
  }
}

}  // namespace
