// llmkit_client_set_cache and llmkit_client_set_ratelimiter: a client's
// calls through a cache and a per-caller limit, against
// test/upstream/upstream.py.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "llmkit.h"
#include "support/c_options.h"
#include "support/upstream.h"

namespace {

using Options = llmkit::test::COptions;

double number(const llmkit_response* r, const char* field) {
  double v = -2;
  EXPECT_EQ(llmkit_response_number(r, field, &v), LLMKIT_OK) << field;
  return v;
}

class CApiClientStages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { upstream_ = std::make_unique<llmkit::test::Upstream>(); }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override {
    upstream_->clear_requests();
    Options o;
    o.set("provider", "openai").set("base_url", upstream_->url("/v1")).set("api_key", "sk-t");
    o.set("retry.attempts", "1").set("cache.scope", "tenant-a");
    ASSERT_EQ(llmkit_client_new(o.o, &client_), LLMKIT_OK) << llmkit_last_error();
    ASSERT_EQ(llmkit_request_new(&request_), LLMKIT_OK);
    llmkit_request_set(request_, "model", "gpt-4o-mini");
    llmkit_request_add_message(request_, "user", "Hello");
  }
  // The clients go first: the cache and the limiter outlive them.
  void TearDown() override {
    llmkit_client_free(client_);
    llmkit_request_free(request_);
    llmkit_hooks_free(hooks_);
    llmkit_cache_free(cache_);
    llmkit_ratelimiter_free(limiter_);
  }
  llmkit_status chat(const Options* call = nullptr, llmkit_response** out = nullptr) {
    llmkit_response* r = nullptr;
    const llmkit_status s = llmkit_client_chat(client_, request_, call ? call->o : nullptr, nullptr,
                                               nullptr, nullptr, &r);
    if (out != nullptr) {
      *out = r;
    } else {
      llmkit_response_free(r);
    }
    return s;
  }

  static std::unique_ptr<llmkit::test::Upstream> upstream_;
  llmkit_client* client_ = nullptr;
  llmkit_request* request_ = nullptr;
  llmkit_hooks* hooks_ = nullptr;
  llmkit_cache* cache_ = nullptr;
  llmkit_ratelimiter* limiter_ = nullptr;
};

std::unique_ptr<llmkit::test::Upstream> CApiClientStages::upstream_;

TEST_F(CApiClientStages, ANullClientIsAnInvalidArgument) {
  EXPECT_EQ(llmkit_client_set_cache(nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_set_ratelimiter(nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_set_cache(client_, nullptr), LLMKIT_OK);  // none: allowed
  EXPECT_EQ(llmkit_client_set_ratelimiter(client_, nullptr), LLMKIT_OK);
}

TEST_F(CApiClientStages, ACachedAnswerSaysSoAndCostsNothing) {
  Options none;
  ASSERT_EQ(llmkit_cache_new(none.o, &cache_), LLMKIT_OK);
  ASSERT_EQ(llmkit_client_set_cache(client_, cache_), LLMKIT_OK);
  ASSERT_EQ(llmkit_hooks_new(nullptr, &hooks_), LLMKIT_OK);
  double seen = -1;
  ASSERT_EQ(llmkit_hooks_add(
                hooks_, LLMKIT_HOOK_AFTER, nullptr, nullptr, 0,
                [](llmkit_hook_event* e, void* data) {
                  return llmkit_hook_event_number(e, "cached", static_cast<double*>(data));
                },
                &seen, nullptr),
            LLMKIT_OK);
  ASSERT_EQ(llmkit_client_set_hooks(client_, hooks_), LLMKIT_OK);
  llmkit_response* first = nullptr;
  ASSERT_EQ(chat(nullptr, &first), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(number(first, "cached"), 0);
  EXPECT_GT(number(first, "cost_usd"), 0);
  EXPECT_EQ(seen, 0);
  llmkit_response* second = nullptr;
  ASSERT_EQ(chat(nullptr, &second), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(number(second, "cached"), 1);
  EXPECT_EQ(number(second, "cost_usd"), 0);
  EXPECT_EQ(number(second, "attempts"), 1);
  EXPECT_EQ(number(second, "output_tokens"), number(first, "output_tokens"));
  EXPECT_EQ(seen, 1);
  llmkit_response_free(first);
  llmkit_response_free(second);
  EXPECT_EQ(upstream_->requests_sent(), 1u);
  uint64_t hits = 0;
  ASSERT_EQ(llmkit_cache_stat(cache_, "hits", &hits), LLMKIT_OK);
  EXPECT_EQ(hits, 1u);
  // Detached: the next call asks the provider.
  ASSERT_EQ(llmkit_client_set_cache(client_, nullptr), LLMKIT_OK);
  EXPECT_EQ(chat(), LLMKIT_OK);
  EXPECT_EQ(upstream_->requests_sent(), 2u);
}

TEST_F(CApiClientStages, TheRatelimiterRefusesACallerPastItsLimit) {
  Options o;
  o.set("requests", "1").set("window", "3600");
  ASSERT_EQ(llmkit_ratelimiter_new(o.o, &limiter_), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(llmkit_client_set_ratelimiter(client_, limiter_), LLMKIT_OK);
  Options a;
  a.set("caller", "team-a");
  EXPECT_EQ(chat(&a), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(chat(&a), LLMKIT_RATE_LIMITED);
  EXPECT_NE(std::string(llmkit_last_error()).find("'team-a'"), std::string::npos)
      << llmkit_last_error();
  Options b;
  b.set("caller", "team-b").set("ratelimit.wait_ms", "10");
  EXPECT_EQ(chat(&b), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(upstream_->requests_sent(), 2u);
  uint64_t limited = 0;
  ASSERT_EQ(llmkit_ratelimiter_stat(limiter_, "limited", &limited), LLMKIT_OK);
  EXPECT_EQ(limited, 1u);
}

}  // namespace
