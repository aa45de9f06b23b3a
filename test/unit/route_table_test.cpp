// The routing table's JSON, error classes, and how a deployment is picked.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <string>

#include "core/error.h"
#include "route/balancer.h"
#include "route/table.h"

namespace llmkit::route {
namespace {

// What client::endpoint_options() gives the router.
constexpr std::string_view kOwn[] = {"provider", "base_url", "api_key",
                                     "model",    "timeout.", "header."};

std::string error_of(const std::string& json) {
  try {
    read_deployments(json, Options{}, kOwn);
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
    return e.what();
  }
  return "";
}

TEST(RouteTable, DeploymentsReadEveryMemberAndInheritTimeoutsAndHeaders) {
  Options client;
  client.set("timeout.total", "9000");
  client.set("header.x-team", "search");
  client.set("base_url", "http://not-inherited");
  const auto list = read_deployments(R"([
    {"name": "east", "provider": "openai", "model": "gpt-4o", "base_url": "http://e/v1",
     "api_key": "sk-e", "weight": 3, "rpm": 60, "tpm": 1000, "timeout.total": 5000},
    {"name": "canary", "provider": "anthropic", "model": "claude-sonnet-4-5", "group": "gpt-4o",
     "split": 12.5, "api_key_env": "CANARY_KEY", "header.x-team": "canary"}
  ])",
                                     client, kOwn);
  ASSERT_EQ(list.size(), 2u);
  const Deployment& e = list[0];
  EXPECT_EQ(e.name, "east");
  EXPECT_EQ(e.group, "gpt-4o");  // its model, when it names no group
  EXPECT_EQ(e.model, "gpt-4o");
  EXPECT_EQ(e.weight, 3);
  EXPECT_EQ(e.rpm, 60);
  EXPECT_EQ(e.tpm, 1000);
  EXPECT_EQ(*e.options.find("timeout.total"), "5000");  // its own wins
  EXPECT_EQ(*e.options.find("header.x-team"), "search");
  EXPECT_EQ(*e.options.find("base_url"), "http://e/v1");
  const Deployment& c = list[1];
  EXPECT_EQ(c.group, "gpt-4o");
  EXPECT_EQ(c.split, 12.5);
  EXPECT_EQ(c.api_key_env, "CANARY_KEY");
  EXPECT_EQ(*c.options.find("timeout.total"), "9000");
  EXPECT_EQ(*c.options.find("header.x-team"), "canary");
  EXPECT_EQ(c.options.find("base_url"), nullptr);  // where to go is never inherited
}

TEST(RouteTable, BadDeploymentsNameTheDeploymentAndTheProblem) {
  const std::pair<std::string, std::string> cases[] = {
      {"{", "not valid JSON"},
      {R"({"name": "a"})", "must be a JSON array"},
      {"[]", "the list is empty"},
      {R"([{"provider": "openai", "model": "m"}])", "deployment 1: \"name\" is missing"},
      {R"([{"name": "a", "model": "m"}])", "deployment 'a': \"provider\" is missing"},
      {R"([{"name": "a", "provider": "openai"}])", "deployment 'a': \"model\" is missing"},
      {R"([{"name": "a", "provider": "openai", "model": "m", "wieght": 2}])",
       "deployment 'a': unknown member 'wieght'"},
      {R"([{"name": "a", "provider": "openai", "model": "m", "weight": 0}])",
       "\"weight\" must be an integer from 1"},
      {R"([{"name": "a", "provider": "openai", "model": "m", "split": 101}])",
       "\"split\" must be a percentage"},
      {R"([{"name": "a", "provider": "openai", "model": "m", "rpm": -1}])", "\"rpm\" must be"},
      {R"([{"name": "a", "provider": "openai", "model": "m", "retry.attempts": 2}])",
       "unknown member 'retry.attempts'"},
      {R"([{"name": "a", "provider": "openai", "model": "m"},
           {"name": "a", "provider": "openai", "model": "n"}])",
       "two deployments are named 'a'"},
      {"/no/such/deployments.json", "cannot be opened"},
  };
  for (const auto& [json, want] : cases) {
    const std::string message = error_of(json);
    EXPECT_NE(message.find(want), std::string::npos) << json << " -> " << message;
  }
}

TEST(RouteTable, FallbackRulesReadTheirClassesAndRefuseUnknownOnes) {
  const auto rules = read_fallbacks(R"([
    {"from": "small", "to": ["large"], "on": ["context_length"]},
    {"from": "*", "to": ["backup", "last"]}
  ])");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].on, unsigned{kContextLength});
  EXPECT_EQ(rules[1].on, kTransient);  // no "on": what another deployment may not meet
  EXPECT_EQ(rules[1].to.size(), 2u);
  for (const char* bad : {R"([{"to": ["x"]}])", R"([{"from": "a"}])",
                          R"([{"from": "a", "to": ["b"], "on": ["sometimes"]}])",
                          R"([{"from": "a", "to": []}])", R"({"from": "a"})"}) {
    EXPECT_THROW(read_fallbacks(bad), Error) << bad;
  }
}

TEST(RouteTable, ErrorClassesFollowStatusHttpStatusAndDetail) {
  EXPECT_EQ(error_class(LLMKIT_RATE_LIMITED, 429, ""), kRateLimited);
  EXPECT_EQ(error_class(LLMKIT_OVERLOADED, 529, ""), kOverloaded);
  EXPECT_EQ(error_class(LLMKIT_PROVIDER_ERROR, 500, ""), kServer);
  EXPECT_EQ(error_class(LLMKIT_PROVIDER_ERROR, 418, ""), kBadRequest);
  EXPECT_EQ(error_class(LLMKIT_INVALID_ARGUMENT, 400, "context_length_exceeded"), kContextLength);
  EXPECT_EQ(error_class(LLMKIT_INVALID_ARGUMENT, 400, ""), kBadRequest);
  EXPECT_EQ(error_class(LLMKIT_INVALID_ARGUMENT, 0, ""), kOther);  // never sent
  EXPECT_EQ(error_class(LLMKIT_UNAVAILABLE, 0, ""), kUnavailable);
  EXPECT_EQ(error_class(LLMKIT_AUTH, 401, ""), kAuth);
  EXPECT_EQ(error_class(LLMKIT_NETWORK, 0, ""), kNetwork);
  EXPECT_EQ(error_class(LLMKIT_TIMEOUT, 0, ""), kTimeout);
}

TEST(RouteBalancer, WeightsShareCallsInProportion) {
  Load a;
  Load b;
  const std::array<Candidate, 2> c = {Candidate{3, 0, &a, true}, Candidate{1, 0, &b, true}};
  int first = 0;
  constexpr int kDraws = 4000;
  for (int i = 0; i < kDraws; ++i) {
    first += *pick(c, Strategy::kWeighted, 0.5, (i + 0.5) / kDraws) == 0 ? 1 : 0;
  }
  EXPECT_EQ(first, kDraws * 3 / 4);  // evenly spaced draws: exactly the weights' share
}

TEST(RouteBalancer, LeastInFlightAndLatencyPickTheLowest) {
  Load busy;
  Load idle;
  busy.begin();
  busy.begin();
  idle.begin();
  const std::array<Candidate, 2> c = {Candidate{1, 0, &busy, true}, Candidate{1, 0, &idle, true}};
  EXPECT_EQ(*pick(c, Strategy::kLeastInFlight, 0, 0.1), 1u);
  EXPECT_EQ(*pick(c, Strategy::kLeastInFlight, 0, 0.9), 1u);

  // Latency: one never measured is tried first; then the faster one.
  busy.end(80'000);
  EXPECT_EQ(*pick(c, Strategy::kLatency, 0, 0.5), 1u);
  idle.end(20'000);
  EXPECT_EQ(idle.latency_us(), 20'000);
  EXPECT_EQ(*pick(c, Strategy::kLatency, 0, 0.5), 1u);
  busy.begin();
  for (int i = 0; i < 20; ++i) {  // it got faster: the average follows
    busy.begin();
    busy.end(1'000);
  }
  EXPECT_LT(busy.latency_us(), 20'000);
  EXPECT_EQ(*pick(c, Strategy::kLatency, 0, 0.5), 0u);
}

TEST(RouteBalancer, ASplitTakesItsShareStickyPerKeyAndYieldsWhenUnusable) {
  Load l;
  std::array<Candidate, 2> c = {Candidate{1, 0, &l, true}, Candidate{1, 10, &l, true}};
  int canary = 0;
  constexpr int kKeys = 10000;
  for (int k = 0; k < kKeys; ++k) {
    const double point = sticky_point("gpt-4o", "user-" + std::to_string(k));
    const std::size_t at = *pick(c, Strategy::kWeighted, point, 0.5);
    canary += at == 1 ? 1 : 0;
    // The same key lands on the same side every time.
    EXPECT_EQ(*pick(c, Strategy::kWeighted, point, 0.99), at);
  }
  EXPECT_NEAR(canary, kKeys / 10, kKeys / 50);  // 10% +- 2 points
  c[1].usable = false;
  EXPECT_EQ(*pick(c, Strategy::kWeighted, 0.01, 0.5), 0u);  // in the split, but it is down
  c[1].usable = true;
  c[0].usable = false;
  EXPECT_EQ(*pick(c, Strategy::kWeighted, 0.5, 0.5), 1u);  // only the split one is left
  c[1].usable = false;
  EXPECT_FALSE(pick(c, Strategy::kWeighted, 0.5, 0.5).has_value());
}

TEST(RouteBalancer, StrategyOptionIsChecked) {
  Options o;
  EXPECT_EQ(strategy_of(o), Strategy::kWeighted);
  o.set("route.strategy", "latency");
  EXPECT_EQ(strategy_of(o), Strategy::kLatency);
  o.set("route.strategy", "fastest");
  EXPECT_THROW(strategy_of(o), Error);
}

}  // namespace
}  // namespace llmkit::route
