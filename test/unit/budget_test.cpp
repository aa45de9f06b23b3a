// Budgets: the rules, the UTC periods, and each store (memory, a real
// Redis, a real PostgreSQL) checked and added to, shared, moved to the
// next period by a clock the test sets, and down.
#include "budget/budgets.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>

#include "core/error.h"
#include "support/postgres_server.h"
#include "support/redis_server.h"
#include "unit/status_of.h"

namespace llmkit::budget {
namespace {

constexpr std::int64_t kDayUs = 86'400'000'000;

// 01:00 UTC on the first of next month: the next day is in the same month,
// and every period's end is after the real now, so the shared stores keep
// the keys (Redis expires them, PostgreSQL deletes past periods' rows by
// the wall clock).
std::int64_t month_start_us() {
  using namespace std::chrono;
  const year_month_day today(floor<days>(system_clock::now()));
  const sys_days next_month(today.year() / today.month() / 1 + months(1));
  return duration_cast<microseconds>(next_month.time_since_epoch()).count() + 3'600'000'000;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct Clock {
  std::shared_ptr<std::int64_t> now = std::make_shared<std::int64_t>(month_start_us());
  Budgets::Clock fn() const {
    return [n = now] { return *n; };
  }
};

std::unique_ptr<Budgets> make(const std::string& store, const Clock& clock,
                              const std::string& on_unavailable = "allow",
                              const std::string& application = "shop") {
  Options o;
  o.set("budgets",
        R"([{"caller": "*", "usd": 1, "per": "day"},
            {"caller": "alice", "usd": 0.5, "per": "month"},
            {"application": "shop", "usd": 3, "per": "month"}])");
  o.set("application", application);
  o.set("budget.store", store);
  o.set("budget.on_unavailable", on_unavailable);
  return Budgets::from(o, clock.fn());
}

// What every store must do: refuse a caller at its limit, not others; a
// new day starts from 0; the month's application budget counts every day.
void expect_limits(const std::string& store) {
  Clock clock;
  auto b = make(store, clock);
  ASSERT_TRUE(b);
  const Admission bob = b->admit("bob");
  EXPECT_EQ(bob.entries.size(), 2u);  // bob's day and the application's month
  b->add(bob, 0.6);
  b->add(b->admit("bob"), 0.6);
  EXPECT_DOUBLE_EQ(b->spent(Kind::kCaller, "bob", Period::kDay), 1.2);
  const std::string why = message_of([&] { b->admit("bob"); });
  EXPECT_NE(why.find("caller 'bob' has spent $1.200000 of its $1.000000 per day (" +
                     window_of(Period::kDay, *clock.now).label + " UTC)"),
            std::string::npos)
      << why;
  EXPECT_EQ(status_of([&] { b->admit("bob"); }), LLMKIT_BUDGET_EXCEEDED);
  EXPECT_EQ(status_of([&] { b->admit("carol"); }), LLMKIT_OK);
  // Nothing is added for a call that cost nothing.
  b->add(b->admit("carol"), 0);
  EXPECT_EQ(b->spent(Kind::kCaller, "carol", Period::kDay), 0);
  // The next UTC day: bob's day budget is fresh, the month's spend is not.
  *clock.now += kDayUs;
  EXPECT_EQ(b->spent(Kind::kCaller, "bob", Period::kDay), 0);
  b->add(b->admit("bob"), 0.9);
  EXPECT_DOUBLE_EQ(b->spent(Kind::kApplication, "shop", Period::kMonth), 2.1);
  b->add(b->admit("dave"), 0.9);
  EXPECT_EQ(status_of([&] { b->admit("erin"); }), LLMKIT_BUDGET_EXCEEDED);  // shop's $3
  EXPECT_EQ(b->stats().refused, 3);
  EXPECT_EQ(b->stats().store_errors, 0);
  // Another application's client is not limited by shop's month.
  auto blog = make(store, clock, "allow", "blog");
  EXPECT_EQ(status_of([&] { blog->admit("erin"); }), LLMKIT_OK);
  EXPECT_EQ(status_of([&] { b->spent(Kind::kApplication, "blog", Period::kDay); }),
            LLMKIT_NOT_FOUND);
  // Two rules of one caller: the stricter refuses.
  blog->add(blog->admit("alice"), 0.5);
  EXPECT_EQ(status_of([&] { blog->admit("alice"); }), LLMKIT_BUDGET_EXCEEDED);
  // A month later everything is fresh.
  *clock.now += 31 * kDayUs;
  EXPECT_EQ(status_of([&] { b->admit("erin"); }), LLMKIT_OK);
}

TEST(BudgetRules, ParsesEntriesAndNamesWhatIsWrong) {
  const auto rules = parse_rules(
      R"([{"application": "shop", "usd": 50, "per": "day"}, {"caller": "*", "usd": 2.5, "per": "month"}])");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].kind, Kind::kApplication);
  EXPECT_EQ(rules[0].key, "shop");
  EXPECT_EQ(rules[1].per, Period::kMonth);
  EXPECT_TRUE(rules[1].covers("anyone"));
  EXPECT_FALSE(rules[0].covers("blog"));
  for (const char* bad : {
           R"({"caller": "a"})",
           R"([{"caller": "a", "application": "b", "usd": 1, "per": "day"}])",
           R"([{"caller": "a", "usd": 0, "per": "day"}])",
           R"([{"caller": "a", "usd": "1", "per": "day"}])",
           R"([{"caller": "a", "usd": 1, "per": "week"}])",
           R"([{"caller": "a", "usd": 1}])",
           R"([{"caller": "a", "usd": 1, "per": "day", "cap": 2}])",
           R"([{"usd": 1, "per": "day"}])",
       }) {
    EXPECT_EQ(status_of([&] { parse_rules(bad); }), LLMKIT_INVALID_ARGUMENT) << bad;
  }
  EXPECT_NE(message_of([&] {
              parse_rules(R"([{"caller": "a", "usd": 1, "per": "week"}])");
            }).find("entry 0"),
            std::string::npos);
}

TEST(BudgetRules, PeriodsAreUtcDaysAndMonths) {
  const std::int64_t dec31 = 1'735'603'200'000'000 + 1;  // 2024-12-31T00:00:00.000001Z
  EXPECT_EQ(window_of(Period::kDay, dec31).label, "2024-12-31");
  EXPECT_EQ(window_of(Period::kDay, dec31).end_us, 1'735'689'600'000'000);
  EXPECT_EQ(window_of(Period::kMonth, dec31).label, "2024-12");
  EXPECT_EQ(window_of(Period::kMonth, dec31).end_us, 1'735'689'600'000'000);
  EXPECT_EQ(window_of(Period::kMonth, 1'735'689'600'000'000).label, "2025-01");
}

TEST(BudgetOptions, RejectsUnknownOptionsAndValues) {
  Options o;
  o.set("budgets", R"([{"caller": "*", "usd": 1, "per": "day"}])");
  o.set("budget.stor", "memory");
  EXPECT_EQ(status_of([&] { Budgets::from(o); }), LLMKIT_INVALID_ARGUMENT);
  o.unset("budget.stor");
  o.set("budget.store", "mysql://x");
  EXPECT_EQ(status_of([&] { Budgets::from(o); }), LLMKIT_INVALID_ARGUMENT);
  o.set("budget.store", "memory");
  o.set("budget.on_unavailable", "maybe");
  EXPECT_EQ(status_of([&] { Budgets::from(o); }), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(Budgets::from(Options()), nullptr);
}

TEST(BudgetStore, MemoryLimitsEachCallerAndRollsOver) {
  expect_limits("memory");
}

// Two clients on one shared store see one spend.
void expect_shared(const std::string& store) {
  Clock clock;
  auto a = make(store, clock);
  auto b = make(store, clock);
  a->add(a->admit("bob"), 0.7);
  b->add(b->admit("bob"), 0.3);
  EXPECT_DOUBLE_EQ(a->spent(Kind::kCaller, "bob", Period::kDay), 1.0);
  EXPECT_EQ(status_of([&] { a->admit("bob"); }), LLMKIT_BUDGET_EXCEEDED);
  EXPECT_EQ(status_of([&] { b->admit("bob"); }), LLMKIT_BUDGET_EXCEEDED);
}

// A store that is down: "allow" lets calls go and counts; "deny" fails
// them UNAVAILABLE; neither waits long; the store is used again once back.
template <class Server>
void expect_down(Server& server) {
  Clock clock;
  auto allow = make(server.url(), clock, "allow");
  auto deny = make(server.url(), clock, "deny");
  allow->add(allow->admit("bob"), 0.25);
  server.stop();
  const auto start = std::chrono::steady_clock::now();
  Admission a;
  EXPECT_EQ(status_of([&] { a = allow->admit("bob"); }), LLMKIT_OK);
  allow->add(a, 0.5);
  EXPECT_EQ(status_of([&] { deny->admit("bob"); }), LLMKIT_UNAVAILABLE);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(allow->stats().store_errors, 2);
  EXPECT_EQ(allow->stats().unrecorded, 1);
  EXPECT_EQ(status_of([&] { allow->spent(Kind::kCaller, "bob", Period::kDay); }),
            LLMKIT_UNAVAILABLE);
  server.start();
  // Back: the store is used again.
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    back = status_of([&] { deny->admit("bob"); }) == LLMKIT_OK;
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Redis's back-off
  }
  ASSERT_TRUE(back);
  // PostgreSQL keeps its rows across the restart (the test's Redis keeps
  // nothing on disk): the $0.25 added before, not the $0.5 while down.
  if constexpr (std::is_same_v<Server, test::PostgresServer>) {
    EXPECT_DOUBLE_EQ(deny->spent(Kind::kCaller, "bob", Period::kDay), 0.25);
  }
}

// Every check above on each shared store, a real server started per test.
template <class Server>
class BudgetSharedStore : public ::testing::Test {};
struct ServerName {
  template <class Server>
  static std::string GetName(int) {
    return std::is_same_v<Server, test::RedisServer> ? "Redis" : "Postgres";
  }
};
using SharedServers = ::testing::Types<test::RedisServer, test::PostgresServer>;
TYPED_TEST_SUITE(BudgetSharedStore, SharedServers, ServerName);

TYPED_TEST(BudgetSharedStore, LimitsEachCallerAndRollsOver) {
  TypeParam server;
  expect_limits(server.url());
}

TYPED_TEST(BudgetSharedStore, IsSharedByClients) {
  TypeParam server;
  expect_shared(server.url());
}

TYPED_TEST(BudgetSharedStore, DownAllowsOrDeniesPerOptionWithoutHanging) {
  TypeParam server;
  expect_down(server);
}

}  // namespace
}  // namespace llmkit::budget
