// Calls through a client's deployments against test/upstream/upstream.py:
// which deployment answers, balancing, traffic split, rpm limits, open
// circuits skipped, and fallback chains per error class. Each deployment
// sends "x-deployment: <name>" so the upstream's log shows where each try
// went; faults are set per deployment with its "header.x-upstream-fault".
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "hooks/registry.h"
#include "pipeline/pipeline.h"
#include "support/upstream.h"

namespace llmkit::pipeline {
namespace {

class PipelineRoute : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { upstream_ = std::make_unique<test::Upstream>(); }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override { upstream_->clear_requests(); }

  // A deployment entry on the upstream; `extra` adds members ("\"weight\": 2").
  static std::string deployment(const std::string& name, const std::string& group,
                                const std::string& fault = "", const std::string& extra = "",
                                const std::string& provider = "openai") {
    const std::string base = upstream_->url(provider == "openai" ? "/v1" : "");
    std::string d = R"({"name": ")" + name + R"(", "provider": ")" + provider +
                    R"(", "base_url": ")" + base + R"(", "api_key": "sk-)" + name +
                    R"(", "model": ")" +
                    (provider == "openai" ? "gpt-4o-mini" : "claude-3-5-haiku-latest") +
                    R"(", "group": ")" + group + R"(", "header.x-deployment": ")" + name + "\"";
    if (!fault.empty()) d += R"(, "header.x-upstream-fault": ")" + fault + "\"";
    if (!extra.empty()) d += ", " + extra;
    return d + "}";
  }
  static std::unique_ptr<Pipeline> make(const std::string& deployments,
                                        const std::string& fallbacks = "",
                                        const std::map<std::string, std::string>& more = {}) {
    Options o;
    o.set("deployments", "[" + deployments + "]");
    if (!fallbacks.empty()) o.set("fallbacks", fallbacks);
    o.set("retry.attempts", "1");
    o.set("retry.base_ms", "5");
    for (const auto& [k, v] : more) o.set(k, v);
    return std::make_unique<Pipeline>(o, nullptr);
  }
  static providers::ChatRequest request(std::string_view model = "chat") {
    providers::ChatRequest r;
    r.model = make_string(model);
    providers::add_message(r, "user", "Hello");
    return r;
  }
  static client::Result chat(Pipeline& p, std::string_view model = "chat",
                             const Options* call = nullptr) {
    return p.chat(request(model), call, nullptr, {});
  }
  // Requests each deployment got, from the upstream's log.
  static std::map<std::string, int> hits() {
    const std::string log = upstream_->requests();
    std::map<std::string, int> n;
    const std::string key = "\"x-deployment\": \"";
    for (auto at = log.find(key); at != std::string::npos; at = log.find(key, at + 1)) {
      const std::size_t start = at + key.size();
      ++n[log.substr(start, log.find('"', start) - start)];
    }
    return n;
  }

  static std::unique_ptr<test::Upstream> upstream_;
};

std::unique_ptr<test::Upstream> PipelineRoute::upstream_;

TEST_F(PipelineRoute, AGroupNameReachesItsDeploymentWhichTheAnswerNames) {
  auto p =
      make(deployment("east", "chat") + "," + deployment("claude", "writer", "", "", "anthropic"));
  client::Result r = chat(*p);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "east");
  EXPECT_EQ(r.response->provider, "openai");
  r = chat(*p, "writer");
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "claude");
  EXPECT_EQ(r.response->provider, "anthropic");
  ASSERT_TRUE(r.response->cost_usd.has_value());  // priced as Anthropic's model
  EXPECT_GT(*r.response->cost_usd, 0);
  // The provider was asked for the deployment's model, not the group's name.
  const std::string log = upstream_->requests();
  EXPECT_NE(log.find("claude-3-5-haiku-latest"), std::string::npos);
  EXPECT_EQ(log.find(R"(\"model\": \"writer\")"), std::string::npos);
  EXPECT_EQ(hits(), (std::map<std::string, int>{{"east", 1}, {"claude", 1}}));
  // A deployment's own name reaches it too; an unknown name nothing.
  EXPECT_EQ(chat(*p, "claude").response->deployment, "claude");
  r = chat(*p, "gpt-5");
  EXPECT_EQ(r.status, LLMKIT_NOT_FOUND);
  EXPECT_NE(r.message.find("no deployment serves 'gpt-5'"), String::npos) << r.message;
}

TEST_F(PipelineRoute, WeightsShareTheCallsOfAGroup) {
  auto p = make(deployment("big", "chat", "", "\"weight\": 4") + "," + deployment("small", "chat"));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(chat(*p).status, LLMKIT_OK);
  const auto n = hits();
  EXPECT_EQ(n.at("big") + n.at("small"), 100);
  EXPECT_GT(n.at("big"), n.at("small") * 2);  // 80 expected; 2x leaves room for chance
  EXPECT_GT(n.at("small"), 5);
}

TEST_F(PipelineRoute, LeastInFlightSpreadsConcurrentCalls) {
  auto p = make(deployment("a", "chat", "delay=300") + "," + deployment("b", "chat", "delay=300"),
                "", {{"route.strategy", "least_inflight"}});
  std::mutex mutex;
  std::condition_variable cv;
  int done = 0;
  for (int i = 0; i < 4; ++i) {
    p->chat_async(request(), nullptr, nullptr, {}, [&](client::Result r) {
      EXPECT_EQ(r.status, LLMKIT_OK) << r.message;
      std::lock_guard<std::mutex> lock(mutex);
      ++done;
      cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return done == 4; }));
  EXPECT_EQ(hits(), (std::map<std::string, int>{{"a", 2}, {"b", 2}}));
}

TEST_F(PipelineRoute, ASplitSendsItsShareStickyPerRouteKey) {
  auto p =
      make(deployment("stable", "chat") + "," + deployment("canary", "chat", "", "\"split\": 20"));
  std::map<std::string, std::string> first;  // key -> deployment
  int canary = 0;
  for (int k = 0; k < 60; ++k) {
    Options call;
    call.set("route.key", "user-" + std::to_string(k));
    for (int again = 0; again < 2; ++again) {
      const client::Result r = chat(*p, "chat", &call);
      ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
      const std::string d(r.response->deployment);
      auto [it, fresh] = first.emplace(std::to_string(k), d);
      EXPECT_EQ(it->second, d) << "key " << k << " moved";
      if (fresh && d == "canary") ++canary;
    }
  }
  EXPECT_GT(canary, 2);  // 12 expected of 60
  EXPECT_LT(canary, 30);
}

TEST_F(PipelineRoute, ARetryGoesToAnotherDeploymentAtOnce) {
  auto p = make(
      deployment("down", "chat", "status=500", "\"weight\": 1000") + "," + deployment("up", "chat"),
      "", {{"retry.attempts", "2"}, {"retry.base_ms", "60000"}});
  const auto start = std::chrono::steady_clock::now();
  const client::Result r = chat(*p);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "up");
  EXPECT_EQ(r.response->attempts, 2);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));  // no backoff
}

TEST_F(PipelineRoute, AFallbackChainEndsInTheRightDeploymentPerErrorClass) {
  const std::string fallbacks = R"([
    {"from": "small", "to": ["large"], "on": ["context_length"]},
    {"from": "small", "to": ["backup"], "on": ["rate_limited", "server"]}
  ])";
  const std::string table = deployment("small", "small", "context_length") + "," +
                            deployment("large", "large") + "," + deployment("backup", "backup");
  auto p = make(table, fallbacks);
  client::Result r = chat(*p, "small");
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "large");  // too long for small: the larger context
  EXPECT_EQ(r.response->attempts, 2);

  upstream_->clear_requests();
  p = make(deployment("small", "small", "status=429") + "," + deployment("large", "large") + "," +
               deployment("backup", "backup"),
           fallbacks);
  r = chat(*p, "small");
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "backup");  // rate limited: another deployment
  EXPECT_EQ(hits(), (std::map<std::string, int>{{"small", 1}, {"backup", 1}}));

  // A class no rule names ends the call with its own failure.
  p = make(deployment("small", "small", "status=401") + "," + deployment("backup", "backup"),
           fallbacks);
  r = chat(*p, "small");
  EXPECT_EQ(r.status, LLMKIT_AUTH);
}

TEST_F(PipelineRoute, FallbacksFollowOneAnotherUntilOneAnswersOrNoneIsLeft) {
  const std::string fallbacks = R"([{"from": "*", "to": ["b", "c"]}])";
  auto p = make(deployment("a", "a", "status=503") + "," + deployment("b", "b", "status=500") +
                    "," + deployment("c", "c"),
                fallbacks);
  client::Result r = chat(*p, "a");
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "c");
  EXPECT_EQ(r.response->attempts, 3);
  p = make(deployment("a", "a", "status=503") + "," + deployment("b", "b", "status=500") + "," +
               deployment("c", "c", "status=529"),
           fallbacks);
  r = chat(*p, "a");
  EXPECT_EQ(r.status, LLMKIT_OVERLOADED);  // the last one's failure
  EXPECT_EQ(r.response->deployment, "c");
}

TEST_F(PipelineRoute, AnOpenCircuitIsSkippedAndFallsBackWhenTheGroupHasNoOther) {
  auto p = make(deployment("flaky", "chat", "status=500") + "," + deployment("spare", "spare"),
                R"([{"from": "chat", "to": ["spare"], "on": ["unavailable"]}])",
                {{"breaker.min_calls", "2"}, {"breaker.open_ms", "60000"}});
  EXPECT_EQ(chat(*p).status, LLMKIT_PROVIDER_ERROR);  // 500 is not "unavailable": no fallback
  EXPECT_EQ(chat(*p).status, LLMKIT_PROVIDER_ERROR);
  ASSERT_NE(p->breaker("flaky"), nullptr);
  EXPECT_EQ(p->breaker("flaky")->stats(now_ms()).state, route::Breaker::State::kOpen);
  upstream_->clear_requests();
  const client::Result r = chat(*p);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "spare");
  EXPECT_EQ(hits(), (std::map<std::string, int>{{"spare", 1}}));  // flaky was not sent to
}

TEST_F(PipelineRoute, ADeploymentAtItsRpmIsSkippedAndAllAtTheirsIsRateLimited) {
  auto p = make(deployment("one", "chat", "", "\"rpm\": 2") + "," +
                deployment("two", "chat", "", "\"rpm\": 1"));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(*p).status, LLMKIT_OK);
  EXPECT_EQ(hits(), (std::map<std::string, int>{{"one", 2}, {"two", 1}}));
  const client::Result r = chat(*p);
  EXPECT_EQ(r.status, LLMKIT_RATE_LIMITED);
  EXPECT_NE(r.message.find("at its rpm or tpm limit"), String::npos) << r.message;
  EXPECT_EQ(hits().size(), 2u);
}

TEST_F(PipelineRoute, TpmChargesTheEstimateAndSettlesWithTheAnswersUsage) {
  // The fixture answer counts 19 + 10 tokens; max_tokens 500 is reserved.
  auto p = make(deployment("metered", "chat", "", "\"tpm\": 1200"));
  providers::ChatRequest req = request();
  req.max_tokens = 500;
  ASSERT_EQ(p->chat(req, nullptr, nullptr, {}).status, LLMKIT_OK);
  // Settled to what was used, so two more calls still fit in 1200.
  ASSERT_EQ(p->chat(req, nullptr, nullptr, {}).status, LLMKIT_OK);
  ASSERT_EQ(p->chat(req, nullptr, nullptr, {}).status, LLMKIT_OK);
  req.max_tokens = 2000;  // more than the minute holds
  EXPECT_EQ(p->chat(req, nullptr, nullptr, {}).status, LLMKIT_RATE_LIMITED);
}

TEST_F(PipelineRoute, AnAsyncCallFallsBackOnTheLoopThread) {
  auto p = make(deployment("a", "a", "status=503") + "," + deployment("b", "b"),
                R"([{"from": "a", "to": ["b"]}])");
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<client::Result> got;
  p->chat_async(request("a"), nullptr, nullptr, {}, [&](client::Result r) {
    std::lock_guard<std::mutex> lock(mutex);
    got = std::move(r);
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return got.has_value(); }));
  ASSERT_EQ(got->status, LLMKIT_OK) << got->message;
  EXPECT_EQ(got->response->deployment, "b");
  EXPECT_EQ(got->response->attempts, 2);
}

TEST_F(PipelineRoute, TheClientsOwnProviderServesWhatNoGroupClaims) {
  Options o;
  o.set("provider", "openai");
  o.set("base_url", upstream_->url("/v1"));
  o.set("api_key", "sk-own");
  o.set("model", "gpt-4o-mini");
  o.set("deployments", "[" + deployment("east", "chat") + "]");
  o.set("fallbacks", R"([{"from": "chat", "to": ["gpt-4o"]}])");
  o.set("retry.attempts", "1");
  Pipeline p(o, nullptr);
  providers::ChatRequest none;  // names no model: the client's
  providers::add_message(none, "user", "Hi");
  client::Result r = p.chat(none, nullptr, nullptr, {});
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "gpt-4o-mini");
  EXPECT_TRUE(hits().empty());  // the own provider sends no x-deployment
  // A fallback may name a model of the own provider.
  o.set("deployments", "[" + deployment("east", "chat", "status=500") + "]");
  Pipeline q(o, nullptr);
  r = chat(q);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->deployment, "gpt-4o");
}

TEST_F(PipelineRoute, EmbeddingsTakeTheGroupsDeploymentsRetriesAndFallbacks) {
  auto p = make(deployment("down", "emb", "status=500", "\"weight\": 1000") + "," +
                    deployment("up", "emb") + "," + deployment("spare", "emb-spare"),
                R"([{"from": "emb", "to": ["emb-spare"]}])",
                {{"retry.attempts", "2"}, {"retry.base_ms", "60000"}});
  const providers::Vector<String> inputs = {make_string("a b"), make_string("cd")};
  // The heavy deployment fails; the retry goes at once to the other.
  const client::Vectors v = p->embed("emb", inputs, nullptr, nullptr);
  ASSERT_EQ(v.values.size(), 2u);
  EXPECT_EQ(v.values[0][0], 3.0f);  // the upstream's vector starts with the text's length
  EXPECT_EQ(v.values[1][0], 2.0f);
  EXPECT_EQ((hits()), (std::map<std::string, int>{{"down", 1}, {"up", 1}}));
  // With no deployment of the group left, the fallback group answers.
  upstream_->clear_requests();
  auto q = make(deployment("down", "emb", "status=503") + "," + deployment("spare", "emb-spare"),
                R"([{"from": "emb", "to": ["emb-spare"]}])");
  EXPECT_EQ(q->embed("emb", inputs, nullptr, nullptr).values.size(), 2u);
  EXPECT_EQ((hits()), (std::map<std::string, int>{{"down", 1}, {"spare", 1}}));
  // Without one, the failure is the call's.
  auto r = make(deployment("down", "emb", "status=401"));
  try {
    r->embed("emb", inputs, nullptr, nullptr);
    FAIL() << "a failed embeddings call returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_AUTH);
  }
}

TEST_F(PipelineRoute, EmbeddingsRunTheHooksWhichMayRejectThem) {
  auto p = make(deployment("up", "emb"));
  auto registry = std::make_shared<hooks::Registry>();
  std::vector<std::string> seen;
  registry->add(
      hooks::Kind::kBefore, "", "tag:blocked",
      [](hooks::Event& e) {
        e.rejected = LLMKIT_BUDGET_EXCEEDED;
        e.reject_message = make_string("no embeddings for you");
        return LLMKIT_OK;
      },
      false);
  for (const auto kind : {hooks::Kind::kAfter, hooks::Kind::kError, hooks::Kind::kFinally}) {
    registry->add(
        kind, "", "model:emb",
        [&seen, kind](hooks::Event& e) {
          EXPECT_EQ(e.request, nullptr);  // an embeddings call has no chat request
          seen.push_back(std::to_string(static_cast<int>(kind)) + ":" +
                         llmkit_status_str(e.status));
          return LLMKIT_OK;
        },
        false);
  }
  p->set_hooks(registry);
  const providers::Vector<String> inputs = {make_string("hello")};
  EXPECT_EQ(p->embed("emb", inputs, nullptr, nullptr).values.size(), 1u);
  Options blocked;
  blocked.set("tags", "blocked");
  try {
    p->embed("emb", inputs, &blocked, nullptr);
    FAIL() << "a rejected embeddings call returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_BUDGET_EXCEEDED);
    EXPECT_STREQ(e.what(), "no embeddings for you");
  }
  const std::string ok = llmkit_status_str(LLMKIT_OK);
  const std::string refused = llmkit_status_str(LLMKIT_BUDGET_EXCEEDED);
  EXPECT_EQ(seen, (std::vector<std::string>{"1:" + ok, "3:" + ok, "2:" + refused, "3:" + refused}));
  EXPECT_EQ((hits()), (std::map<std::string, int>{{"up", 1}}));  // the rejected one sent nothing
}

TEST_F(PipelineRoute, BadTablesAndKeysFailAtCreation) {
  const auto error_of = [](Options o) -> std::string {
    try {
      Pipeline p(o, [](const char*) -> const char* { return nullptr; });
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  Options o;
  o.set("deployments", R"([{"name": "x", "provider": "openai", "model": "m"}])");
  EXPECT_NE(error_of(o).find("deployment 'x': openai needs an API key"), std::string::npos)
      << error_of(o);
  o.set("deployments",
        R"([{"name": "x", "provider": "openai", "model": "m", "api_key_env": "X_KEY"}])");
  EXPECT_NE(error_of(o).find("X_KEY"), std::string::npos) << error_of(o);
  o.set("deployments", R"([{"name": "x", "provider": "nope", "model": "m", "api_key": "k"}])");
  EXPECT_NE(error_of(o).find("deployment 'x'"), std::string::npos) << error_of(o);
  o.set("deployments", R"([{"name": "x", "provider": "openai", "model": "m", "api_key": "k"}])");
  o.set("route.strategy", "round_robin");
  EXPECT_NE(error_of(o).find("route.strategy"), std::string::npos) << error_of(o);
  o.unset("route.strategy");
  o.set("fallbacks", R"([{"from": "x"}])");
  EXPECT_NE(error_of(o).find("\"to\" is missing"), std::string::npos) << error_of(o);
  o.unset("fallbacks");
  o.set("modle", "m");  // a typo in the client's own options is still caught
  EXPECT_NE(error_of(o).find("modle"), std::string::npos) << error_of(o);
}

}  // namespace
}  // namespace llmkit::pipeline
