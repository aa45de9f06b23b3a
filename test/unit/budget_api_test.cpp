// Budgets through the C API: a client's calls against
// test/upstream/upstream.py at a known price, refused once their budget is
// spent, without a request to the provider; two clients on one Redis; two
// processes on one Redis or PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "llmkit.h"
#include "support/c_options.h"
#include "support/postgres_server.h"
#include "support/process.h"
#include "support/redis_server.h"
#include "support/upstream.h"

namespace {

using Options = llmkit::test::COptions;

// The upstream's answer (model gpt-4.1-2025-04-14, 10 output tokens) at
// $0.1 an output token: each call costs $1.
constexpr const char* kPrices =
    R"({"openai": {"models": {"gpt-4.1": {"input": 0, "output": 100000}}}})";

class BudgetApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { upstream_ = std::make_unique<llmkit::test::Upstream>(); }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override {
    upstream_->clear_requests();
    ASSERT_EQ(llmkit_request_new(&request_), LLMKIT_OK);
    llmkit_request_set(request_, "model", "gpt-4.1");
    llmkit_request_add_message(request_, "user", "Hello");
  }
  void TearDown() override { llmkit_request_free(request_); }

  static llmkit_client* client(const std::string& budgets, const std::string& store = "memory",
                               const std::string& on_unavailable = "allow") {
    Options o;
    o.set("provider", "openai").set("base_url", upstream_->url("/v1")).set("api_key", "sk-t");
    o.set("retry.attempts", "1").set("prices", kPrices).set("application", "shop");
    o.set("budgets", budgets).set("budget.store", store);
    o.set("budget.on_unavailable", on_unavailable);
    llmkit_client* c = nullptr;
    EXPECT_EQ(llmkit_client_new(o.o, &c), LLMKIT_OK) << llmkit_last_error();
    return c;
  }
  llmkit_status chat(llmkit_client* c, const char* caller) {
    Options call;
    call.set("caller", caller);
    llmkit_response* r = nullptr;
    const llmkit_status s = llmkit_client_chat(c, request_, call.o, nullptr, nullptr, nullptr, &r);
    llmkit_response_free(r);
    return s;
  }
  static double spent(llmkit_client* c, const char* kind, const char* key, const char* per) {
    double usd = -1;
    EXPECT_EQ(llmkit_client_budget_spent(c, kind, key, per, &usd), LLMKIT_OK)
        << llmkit_last_error();
    return usd;
  }

  static std::unique_ptr<llmkit::test::Upstream> upstream_;
  llmkit_request* request_ = nullptr;
};

std::unique_ptr<llmkit::test::Upstream> BudgetApi::upstream_;

TEST_F(BudgetApi, CallsGoUntilTheSpendReachesTheLimitThenFailWithoutAProviderRequest) {
  llmkit_client* c = client(R"([{"caller": "*", "usd": 2, "per": "day"}])");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(chat(c, "alice"), LLMKIT_OK) << llmkit_last_error();
  EXPECT_DOUBLE_EQ(spent(c, "caller", "alice", "day"), 1.0);
  EXPECT_EQ(chat(c, "alice"), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(upstream_->requests_sent(), 2u);
  EXPECT_EQ(chat(c, "alice"), LLMKIT_BUDGET_EXCEEDED);
  const std::string why = llmkit_last_error();
  EXPECT_NE(why.find("caller 'alice' has spent $2.000000 of its $2.000000 per day"),
            std::string::npos)
      << why;
  EXPECT_EQ(upstream_->requests_sent(), 2u);  // the refused call asked nobody
  EXPECT_EQ(chat(c, "bob"), LLMKIT_OK);       // each caller its own budget
  int64_t refused = 0;
  ASSERT_EQ(llmkit_client_budget_stat(c, "refused", &refused), LLMKIT_OK);
  EXPECT_EQ(refused, 1);
  double usd = 0;
  EXPECT_EQ(llmkit_client_budget_spent(c, "application", "shop", "day", &usd), LLMKIT_NOT_FOUND);
  EXPECT_EQ(llmkit_client_budget_spent(c, "team", "x", "day", &usd), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_budget_spent(c, "caller", "x", "week", &usd), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_budget_stat(c, "nope", &refused), LLMKIT_NOT_FOUND);
  llmkit_client_free(c);
}

TEST_F(BudgetApi, AnAsyncCallIsRefusedAtOnceAndAddsItsCostWhenDone) {
  llmkit_client* c = client(R"([{"application": "shop", "usd": 1, "per": "month"}])");
  ASSERT_NE(c, nullptr);
  struct Done {
    std::atomic<int> calls{0};
    std::atomic<int> status{-1};
  } done;
  Options call;
  ASSERT_EQ(llmkit_client_chat_async(
                c, request_, call.o, nullptr, nullptr,
                [](llmkit_status s, llmkit_response* r, void* d) {
                  llmkit_response_free(r);
                  static_cast<Done*>(d)->status = s;
                  ++static_cast<Done*>(d)->calls;
                },
                &done),
            LLMKIT_OK)
      << llmkit_last_error();
  for (int i = 0; i < 500 && done.calls == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(done.calls, 1);
  EXPECT_EQ(done.status, LLMKIT_OK);
  EXPECT_DOUBLE_EQ(spent(c, "application", "shop", "month"), 1.0);
  EXPECT_EQ(llmkit_client_chat_async(
                c, request_, call.o, nullptr, nullptr,
                [](llmkit_status, llmkit_response* r, void*) { llmkit_response_free(r); }, nullptr),
            LLMKIT_BUDGET_EXCEEDED);
  EXPECT_EQ(upstream_->requests_sent(), 1u);
  llmkit_client_free(c);
}

TEST_F(BudgetApi, TwoClientsOnOneRedisShareTheSpendAndADeadRedisNeverHangs) {
  llmkit::test::RedisServer redis;
  const std::string budgets = R"([{"caller": "*", "usd": 2, "per": "day"}])";
  llmkit_client* a = client(budgets, redis.url());
  llmkit_client* b = client(budgets, redis.url(), "deny");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(chat(a, "carol"), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(chat(b, "carol"), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(chat(a, "carol"), LLMKIT_BUDGET_EXCEEDED);
  EXPECT_EQ(chat(b, "carol"), LLMKIT_BUDGET_EXCEEDED);
  EXPECT_DOUBLE_EQ(spent(b, "caller", "carol", "day"), 2.0);
  redis.stop();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(chat(a, "dave"), LLMKIT_OK) << llmkit_last_error();  // allow
  EXPECT_EQ(chat(b, "dave"), LLMKIT_UNAVAILABLE);                // deny
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  int64_t unrecorded = 0;
  ASSERT_EQ(llmkit_client_budget_stat(a, "unrecorded", &unrecorded), LLMKIT_OK);
  EXPECT_EQ(unrecorded, 1);
  llmkit_client_free(a);
  llmkit_client_free(b);
}

// Two processes (test/ratelimit/worker.cpp) making $1 calls as one caller
// against a $4 daily budget in `store`: together they get 4 calls, or 5
// when both were admitted on a spend of $3 (the documented overshoot of
// calls in flight), and this process reads what they spent.
void expect_processes_share(const std::string& store, const std::string& upstream_url,
                            llmkit::test::Upstream& upstream) {
  const std::string budgets = R"([{"caller": "*", "usd": 4, "per": "day"}])";
  std::vector<std::unique_ptr<llmkit::test::Process>> workers;
  for (int i = 0; i < 2; ++i) {
    workers.push_back(std::make_unique<llmkit::test::Process>(std::vector<std::string>{
        LLMKIT_RATELIMIT_WORKER, "chat", "6", "erin", "provider=openai", "base_url=" + upstream_url,
        "api_key=sk-t", "retry.attempts=1", std::string("prices=") + kPrices, "budgets=" + budgets,
        "budget.store=" + store}));
  }
  long ok = 0, refused = 0;
  for (auto& w : workers) {
    std::istringstream line(w->read_line());
    std::string word;
    long o = -1, r = -1;
    line >> word >> o >> r;
    ASSERT_EQ(word, "chat");
    ok += o;
    refused += r;
  }
  for (auto& w : workers) EXPECT_EQ(w->wait(), 0);
  EXPECT_GE(ok, 4);
  EXPECT_LE(ok, 5);
  EXPECT_EQ(ok + refused, 12);
  EXPECT_EQ(upstream.requests_sent(), static_cast<std::size_t>(ok));  // refused: never sent
  Options o;
  o.set("provider", "openai").set("api_key", "sk-t").set("budgets", budgets);
  o.set("budget.store", store);
  llmkit_client* reader = nullptr;
  ASSERT_EQ(llmkit_client_new(o.o, &reader), LLMKIT_OK) << llmkit_last_error();
  double usd = -1;
  EXPECT_EQ(llmkit_client_budget_spent(reader, "caller", "erin", "day", &usd), LLMKIT_OK)
      << llmkit_last_error();
  EXPECT_DOUBLE_EQ(usd, static_cast<double>(ok));
  llmkit_client_free(reader);
}

TEST_F(BudgetApi, TwoProcessesOnOneRedisShareOneBudget) {
  llmkit::test::RedisServer redis;
  expect_processes_share(redis.url(), upstream_->url("/v1"), *upstream_);
}

TEST_F(BudgetApi, TwoProcessesOnOnePostgresShareOneBudget) {
  llmkit::test::PostgresServer postgres;
  expect_processes_share(postgres.url(), upstream_->url("/v1"), *upstream_);
}

TEST_F(BudgetApi, ABadBudgetFailsTheClient) {
  Options o;
  o.set("provider", "openai").set("api_key", "sk-t").set("budgets", R"([{"caller": "*"}])");
  llmkit_client* c = nullptr;
  EXPECT_EQ(llmkit_client_new(o.o, &c), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("budgets"), std::string::npos);
  Options plain;
  plain.set("provider", "openai").set("api_key", "sk-t");
  ASSERT_EQ(llmkit_client_new(plain.o, &c), LLMKIT_OK);
  double usd = 0;
  EXPECT_EQ(llmkit_client_budget_spent(c, "caller", "x", "day", &usd), LLMKIT_NOT_FOUND);
  llmkit_client_free(c);
}

}  // namespace
