#include "hooks/registry.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "status_of.h"

namespace llmkit::hooks {
namespace {

// A gate an async hook waits at until the test opens it.
class Gate {
 public:
  void open() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct Call {
  providers::ChatRequest request;
  bool copied = true;  // before hooks change `request` itself
  Event event;
  Call(Kind kind = Kind::kBefore, std::string_view model = "gpt-4o-mini") {
    request.model = make_string(model);
    event.kind = kind;
    event.provider = make_string("openai");
    event.request = &request;
    event.allow_edits(&request, &copied);
  }
};

const std::vector<String> kNoScopes;

TEST(HooksRegistry, HooksOfTheEventsKindRunInRegistrationOrder) {
  Registry r;
  std::string order;
  r.add(
      Kind::kBefore, "", "", [&](Event&) { return order += 'a', LLMKIT_OK; }, false);
  r.add(
      Kind::kAfter, "", "", [&](Event&) { return order += 'x', LLMKIT_OK; }, false);
  r.add(
      Kind::kBefore, "", "", [&](Event&) { return order += 'b', LLMKIT_OK; }, false);
  r.add(
      Kind::kBefore, "", "", [&](Event&) { return order += 'c', LLMKIT_OK; }, false);
  Call call;
  r.run(call.event, kNoScopes);
  EXPECT_EQ(order, "abc");
  EXPECT_TRUE(r.any(Kind::kAfter, kNoScopes));
  EXPECT_FALSE(r.any(Kind::kError, kNoScopes));
}

TEST(HooksRegistry, GlobalHooksAlwaysRunScopedOnesOnlyForClientsInTheirScope) {
  Registry r;
  std::string ran;
  r.add(
      Kind::kBefore, "", "", [&](Event&) { return ran += 'g', LLMKIT_OK; }, false);
  r.add(
      Kind::kBefore, "evaluation", "", [&](Event&) { return ran += 'e', LLMKIT_OK; }, false);
  r.add(
      Kind::kBefore, "production", "", [&](Event&) { return ran += 'p', LLMKIT_OK; }, false);
  Call call;
  r.run(call.event, kNoScopes);
  EXPECT_EQ(ran, "g");
  ran.clear();
  const std::vector<String> eval{make_string("evaluation")};
  r.run(call.event, eval);
  EXPECT_EQ(ran, "ge");
  ran.clear();
  const std::vector<String> both{make_string("production"), make_string("evaluation")};
  r.run(call.event, both);
  EXPECT_EQ(ran, "gep");
  Registry scoped_only;
  scoped_only.add(
      Kind::kAfter, "evaluation", "", [](Event&) { return LLMKIT_OK; }, false);
  EXPECT_FALSE(scoped_only.any(Kind::kAfter, kNoScopes));
  EXPECT_TRUE(scoped_only.any(Kind::kAfter, eval));
  EXPECT_EQ(status_of([&] {
              r.add(
                  Kind::kBefore, "two words", "", [](Event&) { return LLMKIT_OK; }, false);
            }),
            LLMKIT_INVALID_ARGUMENT);
}

TEST(HooksRegistry, RulesDecideAndAreCountedWhenTheyFail) {
  Registry r;
  r.add_predicate("broken", [](const CallFacts&) { return 2; });
  int runs = 0;
  const auto mini = r.add(
      Kind::kBefore, "", "model:*-mini",
      [&](Event&) {
        ++runs;
        return LLMKIT_OK;
      },
      false);
  const auto broken = r.add(
      Kind::kBefore, "", "pred:broken",
      [&](Event&) {
        ++runs;
        return LLMKIT_OK;
      },
      false);
  Call small;
  Call big(Kind::kBefore, "gpt-4o");
  r.run(small.event, kNoScopes);
  r.run(big.event, kNoScopes);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(r.stats(mini).calls, 1u);
  EXPECT_EQ(r.stats(mini).skipped, 1u);
  EXPECT_EQ(r.stats(broken).calls, 0u);
  EXPECT_EQ(r.stats(broken).rule_failures, 2u);
  EXPECT_EQ(r.stats(broken).rule, "pred:broken");
}

TEST(HooksRegistry, AFailingHookIsCountedAndTheNextOnesStillRun) {
  Registry r;
  const auto status = r.add(
      Kind::kAfter, "", "", [](Event&) { return LLMKIT_TIMEOUT; }, false);
  const auto thrower = r.add(
      Kind::kAfter, "", "",
      [](Event&) -> llmkit_status { throw std::runtime_error("the database is down"); }, false);
  int later = 0;
  r.add(
      Kind::kAfter, "", "", [&](Event&) { return ++later, LLMKIT_OK; }, false);
  Call call(Kind::kAfter);
  r.run(call.event, kNoScopes);
  EXPECT_EQ(later, 1);
  EXPECT_EQ(r.stats(status).errors, 1u);
  EXPECT_EQ(r.stats(status).last_error, "the hook returned timeout");
  EXPECT_EQ(r.stats(thrower).errors, 1u);
  EXPECT_EQ(r.stats(thrower).last_error, "the database is down");
  EXPECT_EQ(r.stats(thrower).calls, 1u);
}

TEST(HooksRegistry, ABeforeHookChangesTheRequestForTheRulesAndHooksAfterIt) {
  Registry r;
  r.add(
      Kind::kBefore, "", "",
      [](Event& e) {
        e.edit()->model = make_string("gpt-4o-mini");
        e.metadata.emplace_back(make_string("routed"), make_string("yes"));
        return LLMKIT_OK;
      },
      false);
  std::string seen;
  r.add(
      Kind::kBefore, "", "model:gpt-4o-mini and meta.routed:yes",
      [&](Event& e) {
        seen = e.request->model;
        return LLMKIT_OK;
      },
      false);
  Call call(Kind::kBefore, "gpt-4o");
  r.run(call.event, kNoScopes);
  EXPECT_EQ(seen, "gpt-4o-mini");
  EXPECT_EQ(call.request.model, "gpt-4o-mini");
}

TEST(HooksRegistry, AnAnswerOrARejectionEndsTheBeforeRound) {
  Registry r;
  r.add(
      Kind::kBefore, "", "tag:cached",
      [](Event& e) {
        e.answer = std::make_unique<providers::Response>();
        e.answer->text = make_string("from the hook");
        return LLMKIT_OK;
      },
      false);
  r.add(
      Kind::kBefore, "", "tag:blocked",
      [](Event& e) {
        e.rejected = LLMKIT_BUDGET_EXCEEDED;
        e.reject_message = make_string("over budget");
        return LLMKIT_OK;
      },
      false);
  int later = 0;
  r.add(
      Kind::kBefore, "", "", [&](Event&) { return ++later, LLMKIT_OK; }, false);
  Call cached;
  cached.event.tags.push_back(make_string("cached"));
  r.run(cached.event, kNoScopes);
  ASSERT_TRUE(cached.event.answer);
  EXPECT_EQ(cached.event.answer->text, "from the hook");
  Call blocked;
  blocked.event.tags.push_back(make_string("blocked"));
  r.run(blocked.event, kNoScopes);
  EXPECT_EQ(blocked.event.rejected, LLMKIT_BUDGET_EXCEEDED);
  EXPECT_EQ(later, 0);
  Call plain;
  r.run(plain.event, kNoScopes);
  EXPECT_EQ(later, 1);
}

TEST(HooksRegistry, AsyncHooksRunOnAnotherThreadOnAReadOnlyCopy) {
  Registry r;
  std::thread::id ran_on;
  std::string model;
  bool read_only = false;
  std::string text;
  r.add(
      Kind::kAfter, "", "",
      [&](Event& e) {
        ran_on = std::this_thread::get_id();
        model = e.request->model;
        text = e.response->text;
        read_only = e.read_only;
        return LLMKIT_OK;
      },
      true);
  {
    Call call(Kind::kAfter);
    providers::Response response;
    response.text = make_string("hello");
    call.event.response = &response;
    r.run(call.event, kNoScopes);
  }  // the call's request and response are gone: the hook has its own copy
  r.flush();
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_NE(ran_on, std::thread::id());
  EXPECT_EQ(model, "gpt-4o-mini");
  EXPECT_EQ(text, "hello");
  EXPECT_TRUE(read_only);
}

TEST(HooksRegistry, AFullQueueDropsAndCounts) {
  Registry r({.queue_capacity = 1});
  Gate gate;
  int ran = 0;
  const auto id = r.add(
      Kind::kAfter, "", "",
      [&](Event&) {
        gate.wait();
        ++ran;
        return LLMKIT_OK;
      },
      true);
  Call call(Kind::kAfter);
  r.run(call.event, kNoScopes);  // taken by the worker (or queued)
  // Until the worker has taken the first, the second may be the one dropped:
  // either way, of four events at most two fit (one running, one queued).
  for (int i = 0; i < 3; ++i) r.run(call.event, kNoScopes);
  gate.open();
  r.flush();
  const Stats s = r.stats(id);
  EXPECT_GE(s.dropped, 2u);
  EXPECT_EQ(s.calls + s.dropped, 4u);
  EXPECT_EQ(static_cast<std::uint64_t>(ran), s.calls);
}

TEST(HooksRegistry, BlockWhenFullWaitsForRoomAndLosesNothing) {
  Registry r({.queue_capacity = 1, .block_when_full = true});
  std::atomic<int> ran{0};
  const auto id = r.add(
      Kind::kAfter, "", "",
      [&](Event&) {
        ++ran;
        return LLMKIT_OK;
      },
      true);
  Call call(Kind::kAfter);
  for (int i = 0; i < 200; ++i) r.run(call.event, kNoScopes);
  r.flush();
  EXPECT_EQ(ran.load(), 200);
  EXPECT_EQ(r.stats(id).dropped, 0u);
}

TEST(HooksRegistry, DestroyingTheRegistryRunsWhatIsQueued) {
  std::atomic<int> ran{0};
  {
    Registry r;
    r.add(
        Kind::kFinally, "", "",
        [&](Event&) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          ++ran;
          return LLMKIT_OK;
        },
        true);
    Call call(Kind::kFinally);
    for (int i = 0; i < 20; ++i) r.run(call.event, kNoScopes);
  }
  EXPECT_EQ(ran.load(), 20);
}

TEST(HooksRegistry, ARemovedHookNoLongerRuns) {
  Registry r;
  int ran = 0;
  const auto id = r.add(
      Kind::kBefore, "", "", [&](Event&) { return ++ran, LLMKIT_OK; }, false);
  Call call;
  r.run(call.event, kNoScopes);
  r.remove(id);
  r.run(call.event, kNoScopes);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(status_of([&] { r.remove(id); }), LLMKIT_NOT_FOUND);
  EXPECT_TRUE(r.stats().empty());
}

TEST(HooksRegistry, TimesAndSlowRunsAreCounted) {
  Registry r({.slow_us = 1000});
  const auto id = r.add(
      Kind::kBefore, "", "",
      [](Event& e) {
        if (!e.tags.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(3));
        return LLMKIT_OK;
      },
      false);
  Call fast;
  Call slow;
  slow.event.tags.push_back(make_string("slow"));
  r.run(fast.event, kNoScopes);
  r.run(slow.event, kNoScopes);
  const Stats s = r.stats(id);
  EXPECT_EQ(s.calls, 2u);
  EXPECT_EQ(s.slow, 1u);
  EXPECT_GE(s.max_us, 3000);
  EXPECT_GE(s.total_us, s.max_us);
}

TEST(HooksRegistry, BadRegistrationsAreRefusedAndAddNothing) {
  Registry r;
  EXPECT_EQ(status_of([&] {
              r.add(
                  Kind::kBefore, "", "model:", [](Event&) { return LLMKIT_OK; }, false);
            }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { r.add(Kind::kBefore, "", "", HookFn(), false); }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] {
              r.add(
                  Kind::kBefore, "", "pred:later", [](Event&) { return LLMKIT_OK; }, false);
            }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_TRUE(r.stats().empty());
  r.add_predicate("later", [](const CallFacts&) { return 1; });
  EXPECT_EQ(status_of([&] { r.add_predicate("later", [](const CallFacts&) { return 1; }); }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { r.add_predicate("bad name", [](const CallFacts&) { return 1; }); }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] { Registry zero({.queue_capacity = 0}); }), LLMKIT_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace llmkit::hooks
