// A client's metrics, stats, health and recommendations through the C
// API, against test/upstream/upstream.py: exact counts after real calls
// (faults injected), histogram buckets, the cache, the rate limiter, the
// breakers and the hooks as they count, the text as a scraper reads it
// (also over HTTP), and the same counts read back from a traces table.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "llmkit.h"
#include "support/c_options.h"
#include "support/prometheus_text.h"
#include "support/upstream.h"

namespace {

using Options = llmkit::test::COptions;
using llmkit::test::PrometheusText;

// The labels of a series of the client's own provider, unclosed: a test
// appends its own labels and the brace.
std::string series(const std::string& model, const std::string& deployment,
                   const std::string& provider = "openai") {
  return "{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"" + model +
         "\",gen_ai_provider_name=\"" + provider + "\",deployment=\"" + deployment + "\"";
}

struct Http {
  long status = 0;
  std::string body;
};

Http http_get(const std::string& url) {
  Http out;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(
      c, CURLOPT_WRITEFUNCTION, +[](char* p, size_t, size_t n, void* body) {
        static_cast<std::string*>(body)->append(p, n);
        return n;
      });
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_cleanup(c);
  return out;
}

class MetricsApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { upstream_ = std::make_unique<llmkit::test::Upstream>(); }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override {
    ASSERT_EQ(llmkit_request_new(&request_), LLMKIT_OK);
    llmkit_request_set(request_, "model", "gpt-4o-mini");
    llmkit_request_add_message(request_, "user", "Hello");
  }
  void TearDown() override {
    llmkit_metrics_server_free(server_);
    llmkit_client_free(client_);
    llmkit_hooks_free(hooks_);
    llmkit_cache_free(cache_);
    llmkit_ratelimiter_free(limiter_);
    llmkit_request_free(request_);
    if (!db_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db_ + suffix).c_str());
    }
  }

  Options client_options() {
    Options o;
    o.set("provider", "openai").set("base_url", upstream_->url("/v1")).set("api_key", "sk-test");
    o.set("retry.attempts", "1");
    return o;
  }
  void make_client(const Options& o) {
    ASSERT_EQ(llmkit_client_new(o.o, &client_), LLMKIT_OK) << llmkit_last_error();
  }
  // A call; its answer's `number` (when it names one) is added to `*sum`.
  llmkit_status chat(const Options* call = nullptr, const char* number = nullptr,
                     double* sum = nullptr) {
    llmkit_response* r = nullptr;
    const llmkit_status s = llmkit_client_chat(client_, request_, call ? call->o : nullptr, nullptr,
                                               nullptr, nullptr, &r);
    double v = 0;
    if (number != nullptr && r != nullptr && llmkit_response_number(r, number, &v) == LLMKIT_OK) {
      *sum += v;
    }
    llmkit_response_free(r);
    return s;
  }
  llmkit_status fault(const std::string& items) {
    Options call;
    call.set("header.x-upstream-fault", items);
    return chat(&call);
  }
  PrometheusText metrics() {
    const char* text = nullptr;
    size_t len = 0;
    EXPECT_EQ(llmkit_client_metrics(client_, &text, &len), LLMKIT_OK) << llmkit_last_error();
    text_ = text != nullptr ? std::string(text, len) : "";
    return PrometheusText(text_);
  }
  std::string stats() {
    const char* json = nullptr;
    EXPECT_EQ(llmkit_client_stats_json(client_, &json, nullptr), LLMKIT_OK) << llmkit_last_error();
    return json != nullptr ? json : "";
  }
  llmkit_health health(std::string* reasons = nullptr) {
    llmkit_health h = LLMKIT_HEALTH_OK;
    const char* why = nullptr;
    EXPECT_EQ(llmkit_client_health(client_, &h, &why), LLMKIT_OK) << llmkit_last_error();
    if (reasons != nullptr) *reasons = why;
    return h;
  }

  static std::unique_ptr<llmkit::test::Upstream> upstream_;
  llmkit_client* client_ = nullptr;
  llmkit_hooks* hooks_ = nullptr;
  llmkit_cache* cache_ = nullptr;
  llmkit_ratelimiter* limiter_ = nullptr;
  llmkit_metrics_server* server_ = nullptr;
  llmkit_request* request_ = nullptr;
  std::string text_, db_;
};

std::unique_ptr<llmkit::test::Upstream> MetricsApi::upstream_;

TEST_F(MetricsApi, CountsEveryCallByStatusWithItsTokensAndCost) {
  make_client(client_options());
  double input = 0, output = 0, cost = 0;
  for (int i = 0; i < 3; ++i) {
    Options none;
    ASSERT_EQ(chat(&none, "input_tokens", &input), LLMKIT_OK) << llmkit_last_error();
  }
  for (int i = 0; i < 3; ++i) chat(nullptr, "output_tokens", &output);
  for (int i = 0; i < 6; ++i) chat(nullptr, "cost_usd", &cost);  // 12 calls so far
  EXPECT_EQ(fault("status=429"), LLMKIT_RATE_LIMITED);
  EXPECT_EQ(fault("status=429"), LLMKIT_RATE_LIMITED);
  EXPECT_EQ(fault("status=500"), LLMKIT_PROVIDER_ERROR);

  const PrometheusText m = metrics();
  const std::string s = series("gpt-4o-mini", "gpt-4o-mini");
  EXPECT_EQ(m.value("llmkit_requests_total" + s + ",status=\"ok\"}"), 12) << text_;
  EXPECT_EQ(m.value("llmkit_requests_total" + s + ",status=\"RATE_LIMITED\"}"), 2);
  EXPECT_EQ(m.value("llmkit_requests_total" + s + ",status=\"PROVIDER_ERROR\"}"), 1);
  EXPECT_FALSE(m.has("llmkit_requests_total" + s + ",status=\"TIMEOUT\"}"));  // only seen ones
  EXPECT_EQ(m.type("llmkit_gen_ai_client_operation_duration_seconds"), "histogram");
  EXPECT_EQ(m.value("llmkit_gen_ai_client_operation_duration_seconds_count" + s + "}"), 15);
  // Token figures: as the answers counted them (input of 3 calls, output of
  // 3, cost of 6, each of the 12 the same answer).
  EXPECT_EQ(m.value("llmkit_tokens_total" + s + ",type=\"input\"}"), input * 4);
  EXPECT_EQ(m.value("llmkit_tokens_total" + s + ",type=\"output\"}"), output * 4);
  EXPECT_GT(input, 0);
  EXPECT_NEAR(m.value("llmkit_cost_usd_total" + s + "}"), cost * 2, 1e-9);
  EXPECT_GT(cost, 0);
  EXPECT_EQ(m.value("llmkit_gen_ai_client_token_usage_count" + s + ",gen_ai_token_type=\"input\"}"),
            12);  // the error answers reported no usage
  EXPECT_EQ(m.value("llmkit_gen_ai_client_token_usage_sum" + s + ",gen_ai_token_type=\"input\"}"),
            input * 4);
  EXPECT_EQ(m.value("llmkit_metrics_series_overflow_total"), 0);
  EXPECT_EQ(m.value("llmkit_health"), 0);

  const std::string json = stats();
  EXPECT_NE(json.find(R"("calls":{"requests":15,"errors":3,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("requests":{"ok":12,"RATE_LIMITED":2,"PROVIDER_ERROR":1})"),
            std::string::npos)
      << json;
}

TEST_F(MetricsApi, DurationBucketsSplitSlowCallsFromFastOnes) {
  make_client(client_options());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(), LLMKIT_OK);
  ASSERT_EQ(fault("delay=700"), LLMKIT_OK);
  ASSERT_EQ(fault("delay=700"), LLMKIT_OK);
  const PrometheusText m = metrics();
  const std::string b = "llmkit_gen_ai_client_operation_duration_seconds_bucket" +
                        series("gpt-4o-mini", "gpt-4o-mini");
  EXPECT_EQ(m.value(b + ",le=\"0.64\"}"), 3) << text_;  // the fast calls only
  EXPECT_EQ(m.value(b + ",le=\"1.28\"}"), 5);
  EXPECT_EQ(m.value(b + ",le=\"+Inf\"}"), 5);
  EXPECT_GE(m.value("llmkit_gen_ai_client_operation_duration_seconds_sum" +
                    series("gpt-4o-mini", "gpt-4o-mini") + "}"),
            1.4);
}

TEST_F(MetricsApi, StreamedCallsHaveATimeToFirstToken) {
  make_client(client_options());
  ASSERT_EQ(chat(), LLMKIT_OK);  // whole: no first token
  Options stream;
  stream.set("stream", "true");
  ASSERT_EQ(chat(&stream), LLMKIT_OK);
  ASSERT_EQ(chat(&stream), LLMKIT_OK);
  const PrometheusText m = metrics();
  EXPECT_EQ(m.value("llmkit_gen_ai_client_time_to_first_token_seconds_count" +
                    series("gpt-4o-mini", "gpt-4o-mini") + "}"),
            2)
      << text_;
}

TEST_F(MetricsApi, CacheHitsAndMissesAndALowHitRateRecommendation) {
  make_client(client_options());
  Options none;
  ASSERT_EQ(llmkit_cache_new(none.o, &cache_), LLMKIT_OK);
  ASSERT_EQ(llmkit_client_set_cache(client_, cache_), LLMKIT_OK);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(chat(), LLMKIT_OK);  // 1 miss, 3 hits
  PrometheusText m = metrics();
  EXPECT_EQ(m.value("llmkit_cache_lookups_total" + series("gpt-4o-mini", "gpt-4o-mini") +
                    ",result=\"miss\"}"),
            1)
      << text_;
  // A hit names no deployment: no provider answered it.
  EXPECT_EQ(m.value("llmkit_cache_lookups_total" + series("gpt-4o-mini", "") + ",result=\"hit\"}"),
            3);
  std::string json = stats();
  EXPECT_NE(json.find(R"("cache_hits":3,"cache_misses":1,"cache_hit_rate":0.75)"),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find("low_cache_hit_rate"), std::string::npos) << json;  // 75% is fine
  EXPECT_EQ(m.value("llmkit_cache_entries"), 1);

  // 20 more requests, each new: 21 misses of 24 lookups, 12.5% > 10%.
  for (int i = 0; i < 20; ++i) {
    llmkit_request_add_message(request_, "user", ("more " + std::to_string(i)).c_str());
    ASSERT_EQ(chat(), LLMKIT_OK);
  }
  json = stats();
  EXPECT_EQ(json.find("low_cache_hit_rate"), std::string::npos) << json;
  for (int i = 0; i < 10; ++i) {  // 31 misses of 34: 8.8%
    llmkit_request_add_message(request_, "user", ("again " + std::to_string(i)).c_str());
    ASSERT_EQ(chat(), LLMKIT_OK);
  }
  json = stats();
  EXPECT_NE(
      json.find(
          R"("code":"low_cache_hit_rate","message":"the response cache answered 8.8% of 34 lookups)"),
      std::string::npos)
      << json;
}

TEST_F(MetricsApi, RateLimiterRefusalsAreCountedApart) {
  make_client(client_options());
  Options limits;
  limits.set("requests", "2").set("window", "3600");
  ASSERT_EQ(llmkit_ratelimiter_new(limits.o, &limiter_), LLMKIT_OK);
  ASSERT_EQ(llmkit_client_set_ratelimiter(client_, limiter_), LLMKIT_OK);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(chat(), LLMKIT_OK);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(), LLMKIT_RATE_LIMITED);
  ASSERT_EQ(fault("status=429"), LLMKIT_RATE_LIMITED);  // refused locally too: the limit holds
  const PrometheusText m = metrics();
  const std::string refused = series("gpt-4o-mini", "");  // no deployment took them
  EXPECT_EQ(m.value("llmkit_ratelimit_rejected_total" + refused + "}"), 4) << text_;
  EXPECT_EQ(m.value("llmkit_requests_total" + refused + ",status=\"RATE_LIMITED\"}"), 4);
  EXPECT_EQ(
      m.value("llmkit_requests_total" + series("gpt-4o-mini", "gpt-4o-mini") + ",status=\"ok\"}"),
      2);
  EXPECT_EQ(m.value("llmkit_ratelimiter_decisions_total{result=\"limited\"}"), 4);
  EXPECT_EQ(m.value("llmkit_ratelimiter_decisions_total{result=\"allowed\"}"), 2);
}

TEST_F(MetricsApi, AnOpenBreakerMakesTheClientUnhealthy) {
  Options o = client_options();
  o.set("breaker.min_calls", "2").set("breaker.open_ms", "600000");
  make_client(o);
  EXPECT_EQ(health(), LLMKIT_HEALTH_OK);
  ASSERT_EQ(chat(), LLMKIT_OK);
  ASSERT_EQ(fault("status=500"), LLMKIT_PROVIDER_ERROR);  // 1 of 2 failed: opens
  ASSERT_EQ(chat(), LLMKIT_UNAVAILABLE);                  // refused at once
  const PrometheusText m = metrics();
  EXPECT_EQ(m.value("llmkit_breaker_state{deployment=\"gpt-4o-mini\"}"), 1) << text_;
  EXPECT_EQ(m.value("llmkit_breaker_opened_total{deployment=\"gpt-4o-mini\"}"), 1);
  EXPECT_EQ(m.value("llmkit_breaker_rejected_total{deployment=\"gpt-4o-mini\"}"), 1);
  EXPECT_EQ(m.value("llmkit_health"), 2);
  std::string reasons;
  EXPECT_EQ(health(&reasons), LLMKIT_HEALTH_UNHEALTHY);
  EXPECT_EQ(reasons,
            "every deployment's circuit breaker is open\n"
            "the circuit breaker of 'gpt-4o-mini' is open");
  EXPECT_NE(stats().find(R"("state":"unhealthy")"), std::string::npos);
}

TEST_F(MetricsApi, ABreakerThatKeepsOpeningIsFlapping) {
  Options o = client_options();
  o.set("breaker.min_calls", "1").set("breaker.open_ms", "1");
  make_client(o);
  ASSERT_EQ(fault("status=500"), LLMKIT_PROVIDER_ERROR);  // opens
  EXPECT_EQ(stats().find("flapping_breaker"), std::string::npos);
  for (int opened = 1; opened < 3;) {
    // Its 1 ms open passes; the probe fails and opens it again.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (fault("status=500") == LLMKIT_PROVIDER_ERROR) ++opened;
  }
  const std::string json = stats();
  EXPECT_NE(
      json.find(
          R"("code":"flapping_breaker","message":"the circuit breaker of 'gpt-4o-mini' opened 3 times in 10 minutes)"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("opened":3,"recent_opens":3)"), std::string::npos) << json;
}

TEST_F(MetricsApi, HookTimeIsCountedAndASlowHookRecommended) {
  make_client(client_options());
  ASSERT_EQ(llmkit_hooks_new(nullptr, &hooks_), LLMKIT_OK);
  uint64_t fast = 0, slow = 0;
  ASSERT_EQ(llmkit_hooks_add(
                hooks_, LLMKIT_HOOK_BEFORE, nullptr, nullptr, 0,
                [](llmkit_hook_event*, void*) { return LLMKIT_OK; }, nullptr, &fast),
            LLMKIT_OK);
  ASSERT_EQ(llmkit_hooks_add(
                hooks_, LLMKIT_HOOK_AFTER, nullptr, nullptr, 0,
                [](llmkit_hook_event*, void*) {
                  std::this_thread::sleep_for(std::chrono::milliseconds(15));
                  return LLMKIT_OK;
                },
                nullptr, &slow),
            LLMKIT_OK);
  ASSERT_EQ(llmkit_client_set_hooks(client_, hooks_), LLMKIT_OK);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(chat(), LLMKIT_OK);
  const PrometheusText m = metrics();
  const std::string before =
      "{hook=\"" + std::to_string(fast) + "\",kind=\"before\",async=\"false\"}";
  const std::string after =
      "{hook=\"" + std::to_string(slow) + "\",kind=\"after\",async=\"false\"}";
  EXPECT_EQ(m.value("llmkit_hook_runs_total" + before), 2) << text_;
  EXPECT_EQ(m.value("llmkit_hook_runs_total" + after), 2);
  EXPECT_GE(m.value("llmkit_hook_duration_seconds_total" + after), 0.030);
  EXPECT_GE(m.value("llmkit_hook_max_duration_seconds" + after), 0.015);
  EXPECT_LT(m.value("llmkit_hook_duration_seconds_total" + before), 0.010);
  const std::string json = stats();
  const std::string slow_hook =
      R"("code":"slow_hook","message":"hook )" + std::to_string(slow) + R"( (after) takes 1)";
  EXPECT_NE(json.find(slow_hook), std::string::npos) << json;
  const std::string fast_hook = R"("message":"hook )" + std::to_string(fast) + " (";
  EXPECT_EQ(json.find(fast_hook), std::string::npos) << json;
}

TEST_F(MetricsApi, LabelSetsPastTheBoundGoToOneOverflowSeries) {
  Options o = client_options();
  o.set("metrics.max_series", "2");
  make_client(o);
  for (const char* model : {"gpt-4o-mini", "gpt-4o", "gpt-4.1", "o3-mini", "gpt-4o-mini"}) {
    llmkit_request_set(request_, "model", model);
    ASSERT_EQ(chat(), LLMKIT_OK);
  }
  const PrometheusText m = metrics();
  EXPECT_EQ(
      m.value("llmkit_requests_total" + series("gpt-4o-mini", "gpt-4o-mini") + ",status=\"ok\"}"),
      2)
      << text_;
  EXPECT_EQ(m.value("llmkit_requests_total" + series("gpt-4o", "gpt-4o") + ",status=\"ok\"}"), 1);
  EXPECT_FALSE(m.has("llmkit_requests_total" + series("gpt-4.1", "gpt-4.1") + ",status=\"ok\"}"));
  EXPECT_EQ(m.value("llmkit_requests_total{gen_ai_operation_name=\"_overflow\",gen_ai_request_"
                    "model=\"_overflow\",gen_ai_provider_name=\"_overflow\",deployment=\"_"
                    "overflow\",status=\"ok\"}"),
            2);
  EXPECT_EQ(m.value("llmkit_metrics_series_overflow_total"), 2);
  EXPECT_NE(stats().find(R"("code":"series_overflow")"), std::string::npos);
}

TEST_F(MetricsApi, MetricsOffCountsNoCalls) {
  Options o = client_options();
  o.set("metrics", "false");
  make_client(o);
  ASSERT_EQ(chat(), LLMKIT_OK);
  const PrometheusText m = metrics();
  EXPECT_EQ(text_.find("llmkit_requests_total"), std::string::npos) << text_;
  EXPECT_EQ(m.value("llmkit_breaker_state{deployment=\"gpt-4o-mini\"}"), 0);
  EXPECT_EQ(stats().find("\"calls\":{"), std::string::npos);
}

TEST_F(MetricsApi, NullArgumentsAreInvalid) {
  make_client(client_options());
  const char* text = nullptr;
  llmkit_health h;
  llmkit_metrics_server* s = nullptr;
  EXPECT_EQ(llmkit_client_metrics(nullptr, &text, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_metrics(client_, nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_stats_json(nullptr, &text, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_stats_json(client_, nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_health(nullptr, &h, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_health(client_, nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_traces_metrics(nullptr, &text, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_serve_metrics(nullptr, nullptr, 0, &s), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_serve_metrics(client_, nullptr, 0, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_serve_metrics(client_, "localhost", 0, &s), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_serve_metrics(client_, nullptr, 70000, &s), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(llmkit_metrics_server_port(nullptr), 0);
  EXPECT_EQ(llmkit_traces_metrics("/nonexistent/traces.db", &text, nullptr), LLMKIT_NOT_FOUND);
  EXPECT_EQ(llmkit_traces_metrics("jsonl:/tmp/x.jsonl", &text, nullptr), LLMKIT_UNSUPPORTED);
  Options bad = client_options();
  bad.set("metrics.max_series", "0");
  llmkit_client* c = nullptr;
  EXPECT_EQ(llmkit_client_new(bad.o, &c), LLMKIT_INVALID_ARGUMENT);
}

TEST_F(MetricsApi, TheServerAnswersScrapersWithTheClientsFigures) {
  Options o = client_options();
  o.set("breaker.min_calls", "3").set("breaker.failure_rate", "0.3");
  o.set("breaker.open_ms", "600000");
  make_client(o);
  ASSERT_EQ(llmkit_client_serve_metrics(client_, nullptr, 0, &server_), LLMKIT_OK)
      << llmkit_last_error();
  const int port = llmkit_metrics_server_port(server_);
  ASSERT_GT(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_EQ(chat(), LLMKIT_OK);
  ASSERT_EQ(chat(), LLMKIT_OK);

  const Http scraped = http_get(base + "/metrics");
  ASSERT_EQ(scraped.status, 200);
  const PrometheusText m(scraped.body);
  EXPECT_EQ(
      m.value("llmkit_requests_total" + series("gpt-4o-mini", "gpt-4o-mini") + ",status=\"ok\"}"),
      2)
      << scraped.body;
  const Http h = http_get(base + "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, R"({"state":"ok","reasons":[]})");
  const Http st = http_get(base + "/stats?pretty=0");
  EXPECT_EQ(st.status, 200);
  EXPECT_EQ(st.body.rfind(R"({"health":{"state":"ok","reasons":[]},"calls":{"requests":2,)", 0), 0u)
      << st.body;
  EXPECT_EQ(http_get(base + "/nothing").status, 404);

  ASSERT_EQ(fault("status=500"), LLMKIT_PROVIDER_ERROR);  // 1 of 3 failed: opens the breaker
  const Http down = http_get(base + "/health");
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(down.body.find(R"("state":"unhealthy")"), std::string::npos) << down.body;

  llmkit_metrics_server_free(server_);
  server_ = nullptr;
  EXPECT_EQ(http_get(base + "/metrics").status, 0);  // nothing listens any more
}

TEST_F(MetricsApi, TheTracesTableGivesTheClientsCounts) {
  char name[] = "/tmp/llmkit-metrics-api-XXXXXX";
  const int fd = mkstemp(name);
  ASSERT_GE(fd, 0);
  close(fd);
  std::remove(name);
  db_ = std::string(name) + ".db";
  Options o = client_options();
  o.set("trace", db_);
  make_client(o);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(), LLMKIT_OK);
  ASSERT_EQ(fault("status=429"), LLMKIT_RATE_LIMITED);
  Options stream;
  stream.set("stream", "true");
  ASSERT_EQ(chat(&stream), LLMKIT_OK);
  ASSERT_EQ(llmkit_client_flush(client_, 10000), LLMKIT_OK) << llmkit_last_error();
  const PrometheusText live = metrics();
  const std::string live_text = text_;

  const char* text = nullptr;
  ASSERT_EQ(llmkit_traces_metrics(db_.c_str(), &text, nullptr), LLMKIT_OK) << llmkit_last_error();
  const std::string read_back = text;
  const PrometheusText m(read_back);
  const std::string s = series("gpt-4o-mini", "gpt-4o-mini");
  for (const std::string& key :
       {"llmkit_requests_total" + s + ",status=\"ok\"}",
        "llmkit_requests_total" + s + ",status=\"RATE_LIMITED\"}",
        "llmkit_tokens_total" + s + ",type=\"input\"}",
        "llmkit_tokens_total" + s + ",type=\"output\"}",
        "llmkit_gen_ai_client_operation_duration_seconds_count" + s + "}",
        "llmkit_gen_ai_client_time_to_first_token_seconds_count" + s + "}"}) {
    EXPECT_EQ(m.value(key), live.value(key)) << key << "\n" << read_back << "\n" << live_text;
    EXPECT_GT(m.value(key), 0) << key;
  }
  EXPECT_EQ(m.value("llmkit_requests_total" + s + ",status=\"ok\"}"), 4);
  EXPECT_NEAR(m.value("llmkit_cost_usd_total" + s + "}"),
              live.value("llmkit_cost_usd_total" + s + "}"), 1e-9);
  EXPECT_FALSE(m.has("llmkit_health"));  // a table knows no client's health

  ASSERT_EQ(llmkit_traces_serve_metrics(db_.c_str(), nullptr, 0, &server_), LLMKIT_OK);
  ASSERT_EQ(chat(), LLMKIT_OK);
  ASSERT_EQ(llmkit_client_flush(client_, 10000), LLMKIT_OK);
  const Http scraped = http_get(
      "http://127.0.0.1:" + std::to_string(llmkit_metrics_server_port(server_)) + "/metrics");
  ASSERT_EQ(scraped.status, 200);
  EXPECT_EQ(PrometheusText(scraped.body).value("llmkit_requests_total" + s + ",status=\"ok\"}"), 5)
      << scraped.body;  // read again for each scrape
}

}  // namespace
