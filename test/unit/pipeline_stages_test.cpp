// The response cache and the per-caller rate limit in a client's calls
// (pipeline/cache_stage.h, pipeline/caller_limit.h), against
// test/upstream/upstream.py.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache.h"
#include "core/error.h"
#include "pipeline/caller_limit.h"
#include "pipeline/estimate.h"
#include "pipeline/pipeline.h"
#include "ratelimit/limiter.h"
#include "support/upstream.h"

namespace llmkit::pipeline {
namespace {

using hooks::Event;
using hooks::Kind;

// What an async call's done callback got, waited for.
struct Done {
  client::Client::DoneFn fn() {
    return [this](client::Result r) {
      std::lock_guard<std::mutex> lock(mutex);
      result = std::move(r);
      cv.notify_one();
    };
  }
  bool wait() {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(20), [&] { return result.has_value(); });
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<client::Result> result;
};

// The upstream's default answer (openai/chat_completion_text.json): 19
// input and 10 output tokens.
constexpr std::int64_t kTextAnswerTokens = 19 + 10;

class PipelineStages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { upstream_ = std::make_unique<test::Upstream>(); }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override { upstream_->clear_requests(); }

  static std::unique_ptr<Pipeline> make(std::string_view scope = "") {
    Options o;
    o.set("provider", "openai");
    o.set("base_url", upstream_->url("/v1"));
    o.set("api_key", "sk-test");
    o.set("retry.attempts", "1");  // each fault is the call's outcome
    if (!scope.empty()) o.set("cache.scope", scope);
    return std::make_unique<Pipeline>(o, nullptr);
  }
  static std::unique_ptr<cache::Cache> make_cache() {
    return std::make_unique<cache::Cache>(Options());
  }
  static std::unique_ptr<ratelimit::Limiter> make_limiter(
      std::initializer_list<std::pair<const char*, const char*>> settings) {
    Options o;
    o.set("window", "31536000");  // a year: nothing refills during a test
    for (const auto& [k, v] : settings) o.set(k, v);
    return std::make_unique<ratelimit::Limiter>(
        ratelimit::make_store(o, ratelimit::Limiter::config_from(o)),
        &ratelimit::Limiter::monotonic_ns);
  }
  static providers::ChatRequest request(std::string_view model = "gpt-4o-mini",
                                        std::string_view text = "Hello") {
    providers::ChatRequest r;
    r.model = make_string(model);
    providers::add_message(r, "user", text);
    return r;
  }
  static client::Result chat(Pipeline& p, const Options* call_options = nullptr,
                             const providers::ChatRequest& r = request()) {
    return p.chat(r, call_options, nullptr, {});
  }
  static Options with(std::initializer_list<std::pair<const char*, const char*>> settings) {
    Options o;
    for (const auto& [k, v] : settings) o.set(k, v);
    return o;
  }
  static std::size_t sent() { return upstream_->requests_sent(); }
  // Tokens `caller` may still spend: a check of 0 tokens charges nothing.
  static std::int64_t tokens_left(ratelimit::Limiter& l, std::string_view caller) {
    return l.check(caller, 0).remaining_tokens;
  }
  // Waits, polling, until the upstream has logged `n` requests.
  static void await_sent(std::size_t n) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (sent() < n && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_GE(sent(), n);
  }

  static std::unique_ptr<test::Upstream> upstream_;
};

std::unique_ptr<test::Upstream> PipelineStages::upstream_;

using PipelineCache = PipelineStages;
using PipelineCallerLimit = PipelineStages;

TEST_F(PipelineCache, ASecondIdenticalCallIsAHitThatCostsNothing) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  const client::Result first = chat(*p);
  ASSERT_EQ(first.status, LLMKIT_OK) << first.message;
  EXPECT_FALSE(first.response->cached);
  ASSERT_TRUE(first.response->cost_usd);
  EXPECT_GT(*first.response->cost_usd, 0.0);
  const client::Result second = chat(*p);
  ASSERT_EQ(second.status, LLMKIT_OK) << second.message;
  EXPECT_EQ(sent(), 1u);
  const providers::Response& hit = *second.response;
  EXPECT_TRUE(hit.cached);
  EXPECT_EQ(hit.cost_usd, 0.0);
  EXPECT_EQ(hit.attempts, 1);
  EXPECT_EQ(hit.text, first.response->text);
  EXPECT_EQ(hit.model, first.response->model);
  EXPECT_EQ(hit.id, first.response->id);
  EXPECT_EQ(hit.finish, first.response->finish);
  EXPECT_EQ(hit.finish_raw, first.response->finish_raw);
  EXPECT_EQ(hit.usage.input, first.response->usage.input);
  EXPECT_EQ(hit.usage.output, first.response->usage.output);
  EXPECT_EQ(c->stats().hits, 1u);
}

TEST_F(PipelineCache, HooksSeeACachedAnswerAndItsZeroCost) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  auto registry = std::make_shared<hooks::Registry>();
  std::string seen;
  registry->add(
      Kind::kAfter, "", "",
      [&](Event& e) {
        seen += e.response->cached ? "hit " : "miss ";
        if (e.response->cached && e.cost_usd != 0.0) seen += "costly ";
        return LLMKIT_OK;
      },
      false);
  registry->add(
      Kind::kFinally, "", "", [&](Event&) { return seen += "F ", LLMKIT_OK; }, false);
  p->set_hooks(registry);
  ASSERT_EQ(chat(*p).status, LLMKIT_OK);
  ASSERT_EQ(chat(*p).status, LLMKIT_OK);
  EXPECT_EQ(seen, "miss F hit F ");
}

TEST_F(PipelineCache, BypassNeitherReadsNorStoresAndRefreshReplacesTheEntry) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  const Options bypass = with({{"cache", "bypass"}});
  const Options refresh = with({{"cache", "refresh"}});
  ASSERT_EQ(chat(*p, &bypass).status, LLMKIT_OK);
  EXPECT_FALSE(chat(*p).response->cached);            // bypass stored nothing
  EXPECT_FALSE(chat(*p, &bypass).response->cached);   // nor reads
  EXPECT_FALSE(chat(*p, &refresh).response->cached);  // reads nothing, stores
  EXPECT_EQ(sent(), 4u);
  EXPECT_TRUE(chat(*p).response->cached);
  EXPECT_EQ(sent(), 4u);
  const Options bad = with({{"cache", "sometimes"}});
  EXPECT_EQ(chat(*p, &bad).status, LLMKIT_INVALID_ARGUMENT);
}

TEST_F(PipelineCache, ADifferentModelMessageOrScopeMisses) {
  auto p = make();
  auto other_tenant = make("tenant-b");
  auto c = make_cache();
  p->set_cache(c.get());
  other_tenant->set_cache(c.get());
  ASSERT_EQ(chat(*p).status, LLMKIT_OK);
  EXPECT_FALSE(chat(*p, nullptr, request("gpt-4o")).response->cached);
  EXPECT_FALSE(chat(*p, nullptr, request("gpt-4o-mini", "Hello!")).response->cached);
  EXPECT_FALSE(chat(*other_tenant).response->cached);
  EXPECT_EQ(sent(), 4u);
  EXPECT_TRUE(chat(*p).response->cached);
  // Headers and tags are no part of the request's meaning.
  const Options tagged = with({{"tags", "a"}, {"header.x-trace", "1"}});
  EXPECT_TRUE(chat(*p, &tagged).response->cached);
}

TEST_F(PipelineCache, EveryFieldThatCanChangeTheAnswerIsInTheKey) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  providers::ChatRequest base = request();
  base.system = make_string("Be brief.");
  base.temperature = 0.0;
  base.max_tokens = 50;
  base.tools.push_back({make_string("get_weather"), make_string("Weather"),
                        make_string(R"({"type": "object", "required": ["city"]})")});
  base.extra = make_string(R"({"logprobs": false, "n": 1})");
  ASSERT_EQ(chat(*p, nullptr, base).status, LLMKIT_OK);
  // The same meaning, written otherwise: JSON given as text is keyed by its
  // value, and the requested group only through its name.
  providers::ChatRequest same = base;
  same.tools[0].parameters = make_string(R"({"required":["city"],"type":"object"})");
  same.extra = make_string(R"({"n": 1.0, "logprobs": false})");
  EXPECT_TRUE(chat(*p, nullptr, same).response->cached);
  const std::size_t before = sent();
  // Each of these changes one thing, so each misses. (A thinking budget is
  // keyed too; OpenAI, this upstream, takes none.)
  std::vector<std::function<void(providers::ChatRequest&)>> changes = {
      [](auto& r) { r.system = make_string("Be long."); },
      [](auto& r) { r.messages[0].role = providers::Role::kAssistant; },
      [](auto& r) {
        r.messages[0].parts.push_back({make_string("more"), std::nullopt});
      },
      [](auto& r) { providers::add_message(r, "user", "Hello"); },
      [](auto& r) {
        r.messages[0].parts[0].image = providers::Image{make_string("https://x/a.png"), {}, {}};
      },
      [](auto& r) { r.tools[0].description = make_string("Weather now"); },
      [](auto& r) { r.tools[0].parameters = make_string(R"({"type": "object"})"); },
      [](auto& r) { r.tools.clear(); },
      [](auto& r) { r.tool_choice = make_string("required"); },
      [](auto& r) { r.response_format = make_string("json"); },
      [](auto& r) { r.temperature = 0.5; },
      [](auto& r) { r.top_p = 0.9; },
      [](auto& r) { r.max_tokens = 51; },
      [](auto& r) { r.seed = 7; },
      [](auto& r) { r.stop.push_back(make_string("END")); },
      [](auto& r) { r.extra = make_string(R"({"logprobs": true, "n": 1})"); },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    providers::ChatRequest changed = base;
    changes[i](changed);
    const client::Result r = chat(*p, nullptr, changed);
    ASSERT_EQ(r.status, LLMKIT_OK) << "change " << i << ": " << r.message;
    EXPECT_FALSE(r.response->cached) << "change " << i << " hit the unchanged request's entry";
  }
  EXPECT_EQ(sent(), before + changes.size());
}

TEST_F(PipelineCache, MessageAndPartBoundariesAreInTheKey) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  providers::ChatRequest one;
  one.model = make_string("gpt-4o-mini");
  one.messages.push_back({});
  one.messages[0].parts.push_back({make_string("ab"), std::nullopt});
  providers::ChatRequest two_parts = one;
  two_parts.messages[0].parts = {{make_string("a"), std::nullopt},
                                 {make_string("b"), std::nullopt}};
  providers::ChatRequest two_messages = one;
  two_messages.messages[0].parts[0].text = make_string("a");
  providers::add_message(two_messages, "user", "b");
  for (const auto* r : {&one, &two_parts, &two_messages}) {
    const client::Result got = chat(*p, nullptr, *r);
    ASSERT_EQ(got.status, LLMKIT_OK) << got.message;
    EXPECT_FALSE(got.response->cached);
  }
}

TEST_F(PipelineCache, TheKeyIsTheRequestAfterTheBeforeHooks) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  auto registry = std::make_shared<hooks::Registry>();
  registry->add(
      Kind::kBefore, "", "tag:routed",
      [](Event& e) {
        e.edit()->model = make_string("gpt-4o");
        return LLMKIT_OK;
      },
      false);
  p->set_hooks(registry);
  const Options routed = with({{"tags", "routed"}});
  ASSERT_FALSE(chat(*p, &routed).response->cached);
  EXPECT_TRUE(chat(*p, nullptr, request("gpt-4o")).response->cached);
}

TEST_F(PipelineCache, AStreamedHitDeliversTextAndToolCallsAsChunks) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  const Options tools = with({{"header.x-upstream-fixture", "openai/chat_completion_tool_calls"}});
  const client::Result filled = chat(*p, &tools);
  ASSERT_EQ(filled.status, LLMKIT_OK) << filled.message;
  ASSERT_FALSE(filled.response->tool_calls.empty());
  std::string text;
  std::string calls;
  const client::Result r = p->chat(request(), nullptr, nullptr, [&](const providers::Delta& d) {
    if (d.kind == providers::Delta::kText) text += d.text;
    if (d.kind == providers::Delta::kToolCall) {
      calls += std::to_string(d.index) + ":" + std::string(d.id) + ":" + std::string(d.name) + ":" +
               std::string(d.text) + ";";
    }
    return LLMKIT_OK;
  });
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_TRUE(r.response->cached);
  EXPECT_EQ(sent(), 1u);
  EXPECT_EQ(text, std::string(filled.response->text));
  std::string want;
  for (std::size_t i = 0; i < filled.response->tool_calls.size(); ++i) {
    const providers::ToolCall& t = filled.response->tool_calls[i];
    want += std::to_string(i) + ":" + std::string(t.id) + ":" + std::string(t.name) + ":" +
            std::string(t.arguments) + ";";
  }
  EXPECT_EQ(calls, want);
  // A text answer streams as text; a callback's status stops the call.
  c->clear();
  ASSERT_EQ(chat(*p).status, LLMKIT_OK);
  text.clear();
  const client::Result streamed =
      p->chat(request(), nullptr, nullptr, [&](const providers::Delta& d) {
        text += d.text;
        return LLMKIT_OK;
      });
  EXPECT_TRUE(streamed.response->cached);
  EXPECT_EQ(text, std::string(streamed.response->text));
  const client::Result stopped = p->chat(request(), nullptr, nullptr,
                                         [](const providers::Delta&) { return LLMKIT_CANCELLED; });
  EXPECT_EQ(stopped.status, LLMKIT_CANCELLED);
}

TEST_F(PipelineCache, FailedCallsAreNotStored) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  const Options failing = with({{"header.x-upstream-fault", "status=500"}});
  EXPECT_EQ(chat(*p, &failing).status, LLMKIT_PROVIDER_ERROR);
  const Options cut = with({{"header.x-upstream-fault", "truncate"}, {"stream", "true"}});
  EXPECT_EQ(chat(*p, &cut).status, LLMKIT_NETWORK);
  EXPECT_FALSE(chat(*p).response->cached);
  EXPECT_TRUE(chat(*p).response->cached);
  EXPECT_EQ(sent(), 3u);
  EXPECT_EQ(c->stats().waits, 0u);  // each failed filler abandoned: nobody waited for it
}

TEST_F(PipelineCache, ACallerWaitsForTheFillerAndGetsItsAnswer) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  const Options slow = with({{"header.x-upstream-fault", "delay=400"}});
  std::optional<client::Result> filler;
  std::thread first([&] { filler = chat(*p, &slow); });
  await_sent(1);  // the filler is asking the provider
  const client::Result waiter = chat(*p);
  first.join();
  ASSERT_EQ(filler->status, LLMKIT_OK) << filler->message;
  ASSERT_EQ(waiter.status, LLMKIT_OK) << waiter.message;
  EXPECT_FALSE(filler->response->cached);
  EXPECT_TRUE(waiter.response->cached);
  EXPECT_EQ(c->stats().waits, 1u);
  EXPECT_EQ(sent(), 1u);
}

TEST_F(PipelineCache, AFillerThatFailsAbandonsSoTheNextCallerFills) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  const Options failing = with({{"header.x-upstream-fault", "delay=400,status=500"}});
  std::optional<client::Result> filler;
  std::thread first([&] { filler = chat(*p, &failing); });
  await_sent(1);
  const client::Result waiter = chat(*p);
  first.join();
  EXPECT_EQ(filler->status, LLMKIT_PROVIDER_ERROR);
  ASSERT_EQ(waiter.status, LLMKIT_OK) << waiter.message;
  EXPECT_FALSE(waiter.response->cached);  // it filled, after the filler gave up
  EXPECT_EQ(sent(), 2u);
  EXPECT_TRUE(chat(*p).response->cached);
}

TEST_F(PipelineCache, AnAsyncHitCompletesOnTheCallingThread) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  ASSERT_EQ(chat(*p).status, LLMKIT_OK);
  std::optional<client::Result> got;
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  p->chat_async(request(), nullptr, nullptr, {}, [&](client::Result r) {
    ran_on = std::this_thread::get_id();
    got = std::move(r);
  });
  ASSERT_TRUE(got.has_value());  // before chat_async returned
  EXPECT_EQ(ran_on, caller);
  ASSERT_EQ(got->status, LLMKIT_OK);
  EXPECT_TRUE(got->response->cached);
  EXPECT_EQ(sent(), 1u);
}

TEST_F(PipelineCache, AnAsyncMissStoresItsAnswer) {
  auto p = make();
  auto c = make_cache();
  p->set_cache(c.get());
  Done done;
  p->chat_async(request(), nullptr, nullptr, {}, done.fn());
  ASSERT_TRUE(done.wait());
  const std::optional<client::Result>& got = done.result;
  ASSERT_EQ(got->status, LLMKIT_OK) << got->message;
  EXPECT_FALSE(got->response->cached);
  EXPECT_TRUE(chat(*p).response->cached);
  EXPECT_EQ(sent(), 1u);
}

TEST_F(PipelineCallerLimit, TheCallPastTheLimitIsRefusedButAnotherCallerPasses) {
  auto p = make();
  auto l = make_limiter({{"requests", "2"}});
  p->set_limiter(l.get());
  auto registry = std::make_shared<hooks::Registry>();
  std::string seen;
  registry->add(
      Kind::kError, "", "",
      [&](Event& e) { return seen += llmkit_status_str(e.status), LLMKIT_OK; }, false);
  registry->add(
      Kind::kFinally, "", "", [&](Event&) { return seen += " F", LLMKIT_OK; }, false);
  p->set_hooks(registry);
  const Options alice = with({{"caller", "alice"}});
  ASSERT_EQ(chat(*p, &alice).status, LLMKIT_OK);
  ASSERT_EQ(chat(*p, &alice).status, LLMKIT_OK);
  seen.clear();
  const client::Result refused = chat(*p, &alice);
  EXPECT_EQ(refused.status, LLMKIT_RATE_LIMITED);
  EXPECT_NE(refused.message.find("'alice'"), String::npos) << refused.message;
  EXPECT_NE(refused.message.find("retry after"), String::npos) << refused.message;
  EXPECT_EQ(refused.response, nullptr);
  EXPECT_EQ(seen, "RATE_LIMITED F");  // the error round ran
  EXPECT_EQ(sent(), 2u);              // the provider never saw it
  const Options bob = with({{"caller", "bob"}});
  EXPECT_EQ(chat(*p, &bob).status, LLMKIT_OK);
  EXPECT_EQ(chat(*p).status, LLMKIT_OK);  // no caller: the key ""
  EXPECT_EQ(sent(), 4u);
}

TEST_F(PipelineCallerLimit, TokensAreReconciledWithTheActualUsage) {
  auto p = make();
  auto l = make_limiter({{"tokens", "1000"}});
  p->set_limiter(l.get());
  const Options alice = with({{"caller", "alice"}});
  providers::ChatRequest r = request();
  r.max_tokens = 500;  // reserved, then given back
  ASSERT_EQ(chat(*p, &alice, r).status, LLMKIT_OK);
  EXPECT_EQ(tokens_left(*l, "alice"), 1000 - kTextAnswerTokens);
  // A failed call without usage keeps its input estimate only.
  const Options failing = with({{"caller", "bob"}, {"header.x-upstream-fault", "status=500"}});
  ASSERT_EQ(chat(*p, &failing, r).status, LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(tokens_left(*l, "bob"), 1000 - estimate_input_tokens(r, "gpt-4o-mini"));
  // A request that can never fit is refused so.
  r.max_tokens = 5000;
  const client::Result big = chat(*p, &alice, r);
  EXPECT_EQ(big.status, LLMKIT_RATE_LIMITED);
  EXPECT_NE(big.message.find("never fit"), String::npos) << big.message;
}

TEST_F(PipelineCallerLimit, TheInputEstimateUsesTheModelsTokenizerOrTheSize) {
  providers::ChatRequest r = request("gpt-4o-mini", "Hello world, hello world, hello world");
  const std::int64_t counted = estimate_input_tokens(r, "gpt-4o-mini");
  const std::int64_t sized = estimate_input_tokens(r, "some-local-model");
  EXPECT_GT(counted, 6);  // the words, plus the overheads
  EXPECT_EQ(sized, (37 + 3) / 4 + 3 + 3);
}

TEST_F(PipelineCallerLimit, ConcurrencySlotsAreReleasedHoweverACallEnds) {
  auto p = make();
  auto l = make_limiter({{"concurrency", "1"}});
  p->set_limiter(l.get());
  const Options failing = with({{"header.x-upstream-fault", "status=500"}});
  EXPECT_EQ(chat(*p, &failing).status, LLMKIT_PROVIDER_ERROR);
  const Options bad = with({{"timeout.total", "soon"}});  // the call cannot start
  EXPECT_EQ(chat(*p, &bad).status, LLMKIT_INVALID_ARGUMENT);
  Cancel cancel;
  cancel.trigger();
  EXPECT_EQ(p->chat(request(), nullptr, &cancel, {}).status, LLMKIT_CANCELLED);
  EXPECT_EQ(chat(*p).status, LLMKIT_OK);
  // Each call gave its slot back: one is free.
  EXPECT_TRUE(l->check("", 0).allowed);
  EXPECT_TRUE(l->release(""));
  EXPECT_FALSE(l->release(""));
}

TEST_F(PipelineCallerLimit, AWaitForASlotEndsRefusedAtItsLimit) {
  auto p = make();
  auto l = make_limiter({{"concurrency", "1"}});
  p->set_limiter(l.get());
  ASSERT_TRUE(l->check("alice", 0).allowed);  // alice's one slot is taken
  const Options waiting = with({{"caller", "alice"}, {"ratelimit.wait_ms", "50"}});
  const client::Result r = chat(*p, &waiting);
  EXPECT_EQ(r.status, LLMKIT_RATE_LIMITED);
  EXPECT_NE(r.message.find("after waiting up to 50 ms"), String::npos) << r.message;
  EXPECT_EQ(sent(), 0u);
  ASSERT_TRUE(l->release("alice"));
  EXPECT_EQ(chat(*p, &waiting).status, LLMKIT_OK);
}

TEST_F(PipelineCallerLimit, ACacheHitSpendsNoLimit) {
  auto p = make();
  auto c = make_cache();
  auto l = make_limiter({{"requests", "1"}});
  p->set_cache(c.get());
  p->set_limiter(l.get());
  ASSERT_EQ(chat(*p).status, LLMKIT_OK);
  const client::Result hit = chat(*p);
  ASSERT_EQ(hit.status, LLMKIT_OK) << hit.message;
  EXPECT_TRUE(hit.response->cached);
  EXPECT_EQ(chat(*p, nullptr, request("gpt-4o-mini", "Other")).status, LLMKIT_RATE_LIMITED);
  EXPECT_EQ(sent(), 1u);
}

TEST_F(PipelineCallerLimit, AnAsyncRefusalThrowsAndAnAsyncCallReleasesItsSlot) {
  auto p = make();
  auto l = make_limiter({{"concurrency", "1"}});
  p->set_limiter(l.get());
  auto registry = std::make_shared<hooks::Registry>();
  std::atomic<int> errors{0};
  registry->add(
      Kind::kError, "", "", [&](Event&) { return ++errors, LLMKIT_OK; }, false);
  p->set_hooks(registry);
  Done done;
  const Options failing = with({{"header.x-upstream-fault", "delay=200,status=500"}});
  p->chat_async(request(), &failing, nullptr, {}, done.fn());
  // The first call holds the one slot until it ends.
  try {
    p->chat_async(request(), nullptr, nullptr, {},
                  [](client::Result) { ADD_FAILURE() << "a refused async call called done"; });
    ADD_FAILURE() << "a second call was admitted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_RATE_LIMITED);
  }
  ASSERT_TRUE(done.wait());
  EXPECT_EQ(done.result->status, LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(errors, 2);                   // the refusal's error round, and the failure's
  EXPECT_EQ(chat(*p).status, LLMKIT_OK);  // the failed call gave its slot back
}

}  // namespace
}  // namespace llmkit::pipeline
