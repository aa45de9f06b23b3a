// Whole calls through the pipeline against test/upstream/upstream.py: the
// hooks around a real provider call, with injected faults.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.h"
#include "support/upstream.h"

namespace llmkit::pipeline {
namespace {

using hooks::Event;
using hooks::Kind;

class PipelineCall : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { upstream_ = std::make_unique<test::Upstream>(); }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override { upstream_->clear_requests(); }

  static std::unique_ptr<Pipeline> make(std::string_view scopes = "",
                                        std::string_view provider = "openai",
                                        std::string_view prices = "", int attempts = 1) {
    Options o;
    o.set("provider", provider);
    o.set("base_url", upstream_->url("/v1"));
    o.set("api_key", "sk-test");
    o.set("retry.attempts", std::to_string(attempts));
    o.set("retry.base_ms", "5");  // tests wait milliseconds, not seconds
    if (!scopes.empty()) o.set("scopes", scopes);
    if (!prices.empty()) o.set("prices", prices);
    return std::make_unique<Pipeline>(o, nullptr);
  }
  static providers::ChatRequest request(std::string_view model = "gpt-4o-mini") {
    providers::ChatRequest r;
    r.model = make_string(model);
    providers::add_message(r, "user", "Hello");
    return r;
  }
  static client::Result chat(Pipeline& p, const Options* call_options = nullptr) {
    return p.chat(request(), call_options, nullptr, {});
  }
  static std::size_t requests_sent() { return upstream_->requests_sent(); }

  static std::unique_ptr<test::Upstream> upstream_;
};

std::unique_ptr<test::Upstream> PipelineCall::upstream_;

TEST_F(PipelineCall, WithoutHooksACallIsThePlainProviderCall) {
  auto p = make();
  const client::Result r = chat(*p);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_FALSE(r.response->text.empty());
  EXPECT_EQ(requests_sent(), 1u);
}

TEST_F(PipelineCall, HooksRunAroundTheCallInOrderWithWhatEachStageHas) {
  auto p = make();
  auto registry = std::make_shared<hooks::Registry>();
  std::string order;
  std::string after_text;
  std::int64_t elapsed = -1;
  registry->add(
      Kind::kFinally, "", "",
      [&](Event& e) {
        order += e.status == LLMKIT_OK ? "F" : "f";
        return LLMKIT_OK;
      },
      false);
  registry->add(
      Kind::kBefore, "", "",
      [&](Event& e) {
        order += 'B';
        EXPECT_EQ(e.provider, "openai");
        EXPECT_EQ(e.response, nullptr);
        return LLMKIT_OK;
      },
      false);
  registry->add(
      Kind::kAfter, "", "",
      [&](Event& e) {
        order += 'A';
        after_text = std::string(e.response->text);
        elapsed = e.elapsed_us;
        EXPECT_EQ(e.edit(), nullptr);  // only a before hook may change the request
        return LLMKIT_OK;
      },
      false);
  registry->add(
      Kind::kError, "", "", [&](Event&) { return order += 'E', LLMKIT_OK; }, false);
  p->set_hooks(registry);
  const client::Result r = chat(*p);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(order, "BAF");
  EXPECT_EQ(after_text, std::string(r.response->text));
  EXPECT_GT(elapsed, 0);
}

TEST_F(PipelineCall, ErrorHooksSeeAFailedCallsStatusAndFinallyRunsOnce) {
  auto p = make();
  auto registry = std::make_shared<hooks::Registry>();
  llmkit_status seen = LLMKIT_OK;
  int http_status = 0;
  int finally = 0;
  registry->add(
      Kind::kError, "", "status:provider_error",
      [&](Event& e) {
        seen = e.status;
        http_status = e.response != nullptr ? e.response->http_status : -1;
        return LLMKIT_OK;
      },
      false);
  registry->add(
      Kind::kAfter, "", "",
      [](Event&) -> llmkit_status {
        ADD_FAILURE() << "an after hook ran for a failed call";
        return LLMKIT_OK;
      },
      false);
  registry->add(
      Kind::kFinally, "", "", [&](Event&) { return ++finally, LLMKIT_OK; }, false);
  p->set_hooks(registry);
  Options call;
  call.set("header.x-upstream-fault", "status=500");
  const client::Result r = chat(*p, &call);
  EXPECT_EQ(r.status, LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(seen, LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(http_status, 500);
  EXPECT_EQ(finally, 1);
}

TEST_F(PipelineCall, AFailingHookNeverFailsTheCall) {
  auto p = make();
  auto registry = std::make_shared<hooks::Registry>();
  const auto before = registry->add(
      Kind::kBefore, "", "",
      [](Event&) -> llmkit_status { throw std::runtime_error("the analytics database is down"); },
      false);
  const auto after = registry->add(
      Kind::kAfter, "", "", [](Event&) { return LLMKIT_INTERNAL; }, false);
  p->set_hooks(registry);
  const client::Result r = chat(*p);
  EXPECT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(registry->stats(before).errors, 1u);
  EXPECT_EQ(registry->stats(before).last_error, "the analytics database is down");
  EXPECT_EQ(registry->stats(after).errors, 1u);
  EXPECT_EQ(registry->stats(after).last_error, "the hook returned internal");
}

TEST_F(PipelineCall, ABeforeHookChangesTheRequestTheProviderGets) {
  auto p = make();
  auto registry = std::make_shared<hooks::Registry>();
  registry->add(
      Kind::kBefore, "", "model:gpt-4o",
      [](Event& e) {
        e.edit()->model = make_string("gpt-4o-mini-routed");
        return LLMKIT_OK;
      },
      false);
  std::string after_model;
  registry->add(
      Kind::kAfter, "", "",
      [&](Event& e) {
        after_model = std::string(e.model());
        return LLMKIT_OK;
      },
      false);
  p->set_hooks(registry);
  const providers::ChatRequest original = request("gpt-4o");
  const client::Result r = p->chat(original, nullptr, nullptr, {});
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_NE(upstream_->requests().find("gpt-4o-mini-routed"), std::string::npos);
  EXPECT_EQ(after_model, "gpt-4o-mini-routed");
  EXPECT_EQ(original.model, "gpt-4o");  // the caller's request is untouched
}

TEST_F(PipelineCall, ABeforeHookMayAnswerOrRejectWithoutAProviderCall) {
  auto p = make();
  auto registry = std::make_shared<hooks::Registry>();
  registry->add(
      Kind::kBefore, "", "tag:canned",
      [](Event& e) {
        e.answer = std::make_unique<providers::Response>();
        e.answer->text = make_string("canned");
        return LLMKIT_OK;
      },
      false);
  registry->add(
      Kind::kBefore, "", "tag:blocked",
      [](Event& e) {
        e.rejected = LLMKIT_BUDGET_EXCEEDED;
        e.reject_message = make_string("team budget spent");
        return LLMKIT_OK;
      },
      false);
  std::string finals;
  registry->add(
      Kind::kFinally, "", "",
      [&](Event& e) {
        finals += e.status == LLMKIT_OK ? "ok " : "err ";
        return LLMKIT_OK;
      },
      false);
  p->set_hooks(registry);
  Options canned;
  canned.set("tags", "canned");
  const client::Result a = chat(*p, &canned);
  ASSERT_EQ(a.status, LLMKIT_OK);
  EXPECT_EQ(a.response->text, "canned");
  EXPECT_EQ(a.response->model, "gpt-4o-mini");
  Options blocked;
  blocked.set("tags", "blocked");
  const client::Result b = chat(*p, &blocked);
  EXPECT_EQ(b.status, LLMKIT_BUDGET_EXCEEDED);
  EXPECT_EQ(b.message, "team budget spent");
  EXPECT_EQ(b.response, nullptr);
  EXPECT_EQ(requests_sent(), 0u);
  EXPECT_EQ(finals, "ok err ");
}

TEST_F(PipelineCall, ScopesTagsAndMetadataChooseTheHooks) {
  auto registry = std::make_shared<hooks::Registry>();
  std::string ran;
  registry->add(
      Kind::kAfter, "", "", [&](Event&) { return ran += 'g', LLMKIT_OK; }, false);
  registry->add(
      Kind::kAfter, "evaluation", "", [&](Event&) { return ran += 'e', LLMKIT_OK; }, false);
  registry->add(
      Kind::kAfter, "production", "tag:prod and meta.team:search",
      [&](Event&) { return ran += 'p', LLMKIT_OK; }, false);
  auto eval = make("evaluation");
  auto prod = make("production,other");
  eval->set_hooks(registry);
  prod->set_hooks(registry);
  Options call;
  call.set("tags", "prod,beta");
  call.set("meta.team", "search");
  ASSERT_EQ(chat(*eval, &call).status, LLMKIT_OK);
  EXPECT_EQ(ran, "ge");
  ran.clear();
  ASSERT_EQ(chat(*prod, &call).status, LLMKIT_OK);
  EXPECT_EQ(ran, "gp");
  ran.clear();
  ASSERT_EQ(chat(*prod).status, LLMKIT_OK);  // no tags, no metadata
  EXPECT_EQ(ran, "g");
}

TEST_F(PipelineCall, AnAsyncCallRunsItsHooksBeforeItsDoneCallback) {
  auto p = make();
  auto registry = std::make_shared<hooks::Registry>();
  std::mutex mutex;
  std::condition_variable cv;
  std::string order;
  bool finished = false;
  registry->add(
      Kind::kAfter, "", "",
      [&](Event&) {
        std::lock_guard<std::mutex> lock(mutex);
        order += 'A';
        return LLMKIT_OK;
      },
      false);
  registry->add(
      Kind::kFinally, "", "",
      [&](Event&) {
        std::lock_guard<std::mutex> lock(mutex);
        order += 'F';
        return LLMKIT_OK;
      },
      false);
  p->set_hooks(registry);
  llmkit_status status = LLMKIT_INTERNAL;
  p->chat_async(request(), nullptr, nullptr, {}, [&](client::Result r) {
    std::lock_guard<std::mutex> lock(mutex);
    order += 'D';
    status = r.status;
    finished = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mutex);
  cv.wait(lock, [&] { return finished; });
  EXPECT_EQ(status, LLMKIT_OK);
  EXPECT_EQ(order, "AFD");
}

TEST_F(PipelineCall, AsyncHooksGetTheAnswerAfterTheCallReturned) {
  auto p = make();
  auto registry = std::make_shared<hooks::Registry>();
  std::string logged;
  registry->add(
      Kind::kAfter, "", "",
      [&](Event& e) {
        logged = std::string(e.response->text);
        return LLMKIT_OK;
      },
      true);
  p->set_hooks(registry);
  std::string text;
  {
    const client::Result r = chat(*p);
    ASSERT_EQ(r.status, LLMKIT_OK);
    text = std::string(r.response->text);
  }  // the caller's answer is gone; the hook has its own copy
  registry->flush();
  EXPECT_EQ(logged, text);
}

// The upstream's default answer, openai/chat_completion_text.json: model
// gpt-4.1-2025-04-14 (priced as gpt-4.1 in data/prices.json: $2.00 input,
// $8.00 output per million), 19 input and 10 output tokens.
constexpr double kTextAnswerCost = (19 * 2.00 + 10 * 8.00) / 1e6;

TEST_F(PipelineCall, ACallCostsItsUsageAtItsModelsPrice) {
  auto p = make();
  const client::Result plain = chat(*p);
  ASSERT_EQ(plain.status, LLMKIT_OK) << plain.message;
  ASSERT_TRUE(plain.response->cost_usd);
  EXPECT_NEAR(*plain.response->cost_usd, kTextAnswerCost, 1e-12);
  // The same with hooks, which see it.
  auto registry = std::make_shared<hooks::Registry>();
  std::optional<double> seen;
  registry->add(
      Kind::kAfter, "", "",
      [&](Event& e) {
        seen = e.cost_usd;
        return LLMKIT_OK;
      },
      false);
  p->set_hooks(registry);
  const client::Result hooked = chat(*p);
  ASSERT_TRUE(seen);
  EXPECT_NEAR(*seen, kTextAnswerCost, 1e-12);
}

TEST_F(PipelineCall, AnAnswerFromAHookCostsNothingAndAnUnpricedModelHasNoCost) {
  auto p = make();
  auto registry = std::make_shared<hooks::Registry>();
  registry->add(
      Kind::kBefore, "", "",
      [](Event& e) {
        e.answer = std::make_unique<providers::Response>();
        return LLMKIT_OK;
      },
      false);
  p->set_hooks(registry);
  const client::Result canned = chat(*p);
  ASSERT_TRUE(canned.response->cost_usd);
  EXPECT_EQ(*canned.response->cost_usd, 0.0);
  // No table prices an OpenAI-compatible server's models: no cost, not 0.
  auto compatible = make("", "openai-compatible");
  const client::Result r = chat(*compatible);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_FALSE(r.response->cost_usd);
}

TEST_F(PipelineCall, ThePricesOptionOverridesTheBuiltInTable) {
  auto p = make("", "openai-compatible",
                R"({"openai-compatible": {"models": {"gpt-4.1": {"input": 1, "output": 100}}}})");
  const client::Result r = chat(*p);
  ASSERT_TRUE(r.response->cost_usd);
  EXPECT_NEAR(*r.response->cost_usd, (19 * 1 + 10 * 100) / 1e6, 1e-12);
  try {
    make("", "openai", R"({"openai": {"models": {"gpt-4.1": {"input": -1, "output": 1}}}})");
    ADD_FAILURE() << "a negative price was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
  }
}

// Call options injecting `faults` into every request of the call.
Options faulty(std::string_view faults) {
  Options o;
  o.set("header.x-upstream-fault", faults);
  return o;
}

TEST_F(PipelineCall, RetriesCureATransientFailure) {
  auto p = make("", "openai", "", 3);
  const Options call = faulty("status=503,times=2,id=transient");
  const client::Result r = chat(*p, &call);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.response->attempts, 3);
  EXPECT_EQ(requests_sent(), 3u);
}

TEST_F(PipelineCall, RetriesStopAtTheLimitAndOnlyForRetryableFailures) {
  auto p = make("", "openai", "", 2);
  const Options always = faulty("status=500");
  const client::Result r = chat(*p, &always);
  EXPECT_EQ(r.status, LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(r.response->attempts, 2);
  EXPECT_EQ(requests_sent(), 2u);
  upstream_->clear_requests();
  const Options bad = faulty("status=400");
  EXPECT_EQ(chat(*p, &bad).status, LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(requests_sent(), 1u);  // a bad request stays bad
}

TEST_F(PipelineCall, ARetryWaitsAtLeastTheProvidersRetryAfter) {
  auto p = make("", "openai", "", 2);
  const Options call = faulty("status=429,retry_after_ms=300,times=1,id=wait");
  const auto start = std::chrono::steady_clock::now();
  const client::Result r = chat(*p, &call);
  ASSERT_EQ(r.status, LLMKIT_OK) << r.message;
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

TEST_F(PipelineCall, TheDeadlineBoundsRetriesAndEachTry) {
  auto p = make("", "openai", "", 5);
  // A wait longer than the deadline leaves: the provider's answer is the outcome.
  Options limited = faulty("status=429,retry_after_ms=5000");
  limited.set("deadline_ms", "1000");
  auto start = std::chrono::steady_clock::now();
  client::Result r = chat(*p, &limited);
  EXPECT_EQ(r.status, LLMKIT_RATE_LIMITED);
  EXPECT_EQ(requests_sent(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  // A slow try is cut at the deadline.
  Options slow = faulty("delay=3000");
  slow.set("deadline_ms", "300");
  start = std::chrono::steady_clock::now();
  r = chat(*p, &slow);
  EXPECT_EQ(r.status, LLMKIT_TIMEOUT);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
}

TEST_F(PipelineCall, AStreamThatDeliveredPiecesIsNotSentAgain) {
  auto p = make("", "openai", "", 3);
  const Options call = faulty("reset=1200");  // a few pieces of text, then a reset
  std::string got;
  const client::Result r = p->chat(request(), &call, nullptr, [&](const providers::Delta& d) {
    got += d.text;
    return LLMKIT_OK;
  });
  EXPECT_EQ(r.status, LLMKIT_NETWORK);
  EXPECT_FALSE(got.empty());
  EXPECT_EQ(requests_sent(), 1u);
}

TEST_F(PipelineCall, ACancelEndsTheWaitBeforeARetry) {
  auto p = make("", "openai", "", 3);
  const Options call = faulty("status=429,retry_after_ms=30000");
  Cancel cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel.trigger();
  });
  const auto start = std::chrono::steady_clock::now();
  const client::Result r = p->chat(request(), &call, &cancel, {});
  canceller.join();
  EXPECT_EQ(r.status, LLMKIT_CANCELLED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(5000));
}

TEST_F(PipelineCall, AnAsyncCallRetriesWithoutAThreadWaiting) {
  auto p = make("", "openai", "", 3);
  auto registry = std::make_shared<hooks::Registry>();
  int errors = 0;
  registry->add(
      Kind::kError, "", "", [&](Event&) { return ++errors, LLMKIT_OK; }, false);
  p->set_hooks(registry);
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<client::Result> got;
  {
    const Options call = faulty("status=503,times=1,id=async-retry");
    p->chat_async(request(), &call, nullptr, {}, [&](client::Result r) {
      std::lock_guard<std::mutex> lock(mutex);
      got = std::move(r);
      cv.notify_one();
    });
  }  // the call options are gone: the retry has its own copy
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return got.has_value(); }));
  ASSERT_EQ(got->status, LLMKIT_OK) << got->message;
  EXPECT_EQ(got->response->attempts, 2);
  EXPECT_EQ(errors, 0);  // hooks see the outcome, not each try
  EXPECT_EQ(requests_sent(), 2u);
}

TEST_F(PipelineCall, BadScopesAreRefused) {
  Options o;
  o.set("provider", "openai");
  o.set("base_url", upstream_->url("/v1"));
  o.set("api_key", "sk-test");
  o.set("scopes", "evaluation,two words");
  try {
    Pipeline p(o, nullptr);
    ADD_FAILURE() << "created";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("\"two words\""), std::string::npos);
  }
}

}  // namespace
}  // namespace llmkit::pipeline
