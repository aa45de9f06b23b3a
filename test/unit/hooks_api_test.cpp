// Hooks through the C API, around real calls to test/upstream/upstream.py.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "llmkit.h"
#include "support/c_options.h"
#include "support/upstream.h"

namespace {

using Options = llmkit::test::COptions;

std::string get(const llmkit_hook_event* e, const char* field) {
  const char* v = nullptr;
  size_t n = 0;
  if (llmkit_hook_event_get(e, field, &v, &n) != LLMKIT_OK) return "<" + std::string(field) + ">";
  return std::string(v, n);
}

// What the hooks of a test saw, in the order they ran.
struct Seen {
  std::vector<std::string> lines;
};

class HooksApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { upstream_ = std::make_unique<llmkit::test::Upstream>(); }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override {
    upstream_->clear_requests();
    ASSERT_EQ(llmkit_hooks_new(nullptr, &hooks_), LLMKIT_OK);
    ASSERT_EQ(llmkit_request_new(&request_), LLMKIT_OK);
    llmkit_request_set(request_, "model", "gpt-4o-mini");
    llmkit_request_add_message(request_, "user", "Hello");
  }
  void TearDown() override {
    llmkit_client_free(client_);
    llmkit_hooks_free(hooks_);
    llmkit_request_free(request_);
  }

  llmkit_client* client(const char* scopes = nullptr) {
    Options o;
    o.set("provider", "openai").set("base_url", upstream_->url("/v1")).set("api_key", "sk-t");
    o.set("retry.attempts", "1");  // each fault reaches the hooks at once
    if (scopes != nullptr) o.set("scopes", scopes);
    llmkit_client_free(client_);
    EXPECT_EQ(llmkit_client_new(o.o, &client_), LLMKIT_OK) << llmkit_last_error();
    EXPECT_EQ(llmkit_client_set_hooks(client_, hooks_), LLMKIT_OK);
    return client_;
  }
  llmkit_status chat(const Options* call = nullptr, std::string* text = nullptr) {
    llmkit_response* r = nullptr;
    const llmkit_status s = llmkit_client_chat(client_, request_, call ? call->o : nullptr, nullptr,
                                               nullptr, nullptr, &r);
    if (text != nullptr && r != nullptr) {
      const char* t = nullptr;
      llmkit_response_get(r, "text", &t, nullptr);
      *text = t;
    }
    llmkit_response_free(r);
    return s;
  }
  uint64_t add(llmkit_hook_kind kind, const char* scope, const char* rule, llmkit_hook_fn fn,
               void* data, unsigned flags = 0) {
    uint64_t id = 0;
    EXPECT_EQ(llmkit_hooks_add(hooks_, kind, scope, rule, flags, fn, data, &id), LLMKIT_OK)
        << llmkit_last_error();
    return id;
  }
  int64_t stat(uint64_t id, const char* name) {
    int64_t v = -1;
    EXPECT_EQ(llmkit_hooks_stat(hooks_, id, name, &v), LLMKIT_OK) << name;
    return v;
  }

  static std::unique_ptr<llmkit::test::Upstream> upstream_;
  llmkit_hooks* hooks_ = nullptr;
  llmkit_client* client_ = nullptr;
  llmkit_request* request_ = nullptr;
};

std::unique_ptr<llmkit::test::Upstream> HooksApi::upstream_;

TEST_F(HooksApi, HooksSeeAndChangeTheCall) {
  client();
  Seen seen;
  add(
      LLMKIT_HOOK_BEFORE, nullptr, "model:gpt-4o-mini and tag:prod",
      [](llmkit_hook_event* e, void* data) {
        auto* s = static_cast<Seen*>(data);
        s->lines.push_back("before " + get(e, "provider") + " " + get(e, "model") + " " +
                           get(e, "tags") + " " + get(e, "meta.team"));
        llmkit_hook_event_set(e, "model", "gpt-4o-mini-2024-07-18");
        llmkit_hook_event_set_meta(e, "routed", "yes");
        return LLMKIT_OK;
      },
      &seen);
  add(
      LLMKIT_HOOK_AFTER, nullptr, "meta.routed:yes",
      [](llmkit_hook_event* e, void* data) {
        auto* s = static_cast<Seen*>(data);
        const char* text = nullptr;
        llmkit_response_get(llmkit_hook_event_response(e), "text", &text, nullptr);
        double status = -1, elapsed = -1;
        llmkit_hook_event_number(e, "status", &status);
        llmkit_hook_event_number(e, "elapsed_ms", &elapsed);
        s->lines.push_back("after " + get(e, "model") + " " + std::to_string(int(status)) + " " +
                           (elapsed > 0 ? "timed" : "untimed") + " " + text);
        // Only a before hook changes a call.
        s->lines.push_back(llmkit_status_str(llmkit_hook_event_set(e, "model", "x")));
        return LLMKIT_OK;
      },
      &seen);
  Options call;
  call.set("tags", "prod,beta").set("meta.team", "search");
  std::string text;
  ASSERT_EQ(chat(&call, &text), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(seen.lines.size(), 3u);
  EXPECT_EQ(seen.lines[0], "before openai gpt-4o-mini prod,beta search");
  EXPECT_EQ(seen.lines[1], "after gpt-4o-mini-2024-07-18 0 timed " + text);
  EXPECT_EQ(seen.lines[2], "INVALID_ARGUMENT");
  EXPECT_NE(upstream_->requests().find("gpt-4o-mini-2024-07-18"), std::string::npos);
}

TEST_F(HooksApi, ACallRunsTheHooksThereWereWhenItBegan) {
  client();
  // A before hook that adds an after hook, the first time it runs: the
  // call it runs in ends without it, the next call runs it.
  struct Added {
    llmkit_hooks* hooks;
    int afters = 0;
    uint64_t id = 0;
  } added{hooks_};
  add(
      LLMKIT_HOOK_BEFORE, nullptr, nullptr,
      [](llmkit_hook_event*, void* data) {
        auto* a = static_cast<Added*>(data);
        if (a->id != 0) return LLMKIT_OK;
        return llmkit_hooks_add(
            a->hooks, LLMKIT_HOOK_AFTER, nullptr, nullptr, 0,
            [](llmkit_hook_event*, void* d) {
              ++static_cast<Added*>(d)->afters;
              return LLMKIT_OK;
            },
            a, &a->id);
      },
      &added);
  ASSERT_EQ(chat(), LLMKIT_OK) << llmkit_last_error();
  ASSERT_NE(added.id, 0u);
  EXPECT_EQ(added.afters, 0);
  ASSERT_EQ(chat(), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(added.afters, 1);
}

TEST_F(HooksApi, TheRequestFieldIsTheBodyTheProviderGets) {
  client();
  std::string body;
  add(
      LLMKIT_HOOK_BEFORE, nullptr, nullptr,
      [](llmkit_hook_event* e, void* data) {
        *static_cast<std::string*>(data) = get(e, "request");
        return LLMKIT_OK;
      },
      &body);
  ASSERT_EQ(chat(), LLMKIT_OK);
  EXPECT_NE(body.find(R"("model":"gpt-4o-mini")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("content":"Hello")"), std::string::npos) << body;
  EXPECT_EQ(body.find("sk-t"), std::string::npos);
}

TEST_F(HooksApi, AFailingHookIsCountedWithItsMessageAndTheCallSucceeds) {
  client();
  const uint64_t id = add(
      LLMKIT_HOOK_AFTER, nullptr, nullptr,
      [](llmkit_hook_event* e, void*) {
        return llmkit_hook_event_fail(e, LLMKIT_UNAVAILABLE, "the audit database is down");
      },
      nullptr);
  EXPECT_EQ(chat(), LLMKIT_OK);
  EXPECT_EQ(chat(), LLMKIT_OK);
  EXPECT_EQ(stat(id, "calls"), 2);
  EXPECT_EQ(stat(id, "errors"), 2);
  const char* message = nullptr;
  ASSERT_EQ(llmkit_hooks_last_error(hooks_, id, &message), LLMKIT_OK);
  EXPECT_STREQ(message, "the audit database is down");
}

TEST_F(HooksApi, ABeforeHookAnswersOrRejectsAndNoRequestIsSent) {
  client();
  add(
      LLMKIT_HOOK_BEFORE, nullptr, "tag:canned",
      [](llmkit_hook_event* e, void*) { return llmkit_hook_event_answer(e, "from the hook"); },
      nullptr);
  add(
      LLMKIT_HOOK_BEFORE, nullptr, "tag:blocked",
      [](llmkit_hook_event* e, void*) {
        return llmkit_hook_event_reject(e, LLMKIT_BUDGET_EXCEEDED, "the team's budget is spent");
      },
      nullptr);
  Seen seen;
  add(
      LLMKIT_HOOK_ERROR, nullptr, "status:budget_exceeded",
      [](llmkit_hook_event* e, void* data) {
        static_cast<Seen*>(data)->lines.push_back(get(e, "message"));
        return LLMKIT_OK;
      },
      &seen);
  Options canned;
  canned.set("tags", "canned");
  std::string text;
  ASSERT_EQ(chat(&canned, &text), LLMKIT_OK);
  EXPECT_EQ(text, "from the hook");
  Options blocked;
  blocked.set("tags", "blocked");
  EXPECT_EQ(chat(&blocked), LLMKIT_BUDGET_EXCEEDED);
  EXPECT_STREQ(llmkit_last_error(), "the team's budget is spent");
  EXPECT_EQ(seen.lines, std::vector<std::string>{"the team's budget is spent"});
  EXPECT_EQ(upstream_->requests(), "[]");
}

TEST_F(HooksApi, ErrorHooksSeeTheProvidersFailure) {
  client();
  Seen seen;
  add(
      LLMKIT_HOOK_ERROR, nullptr, "status:rate_limited",
      [](llmkit_hook_event* e, void* data) {
        double retry = -1;
        llmkit_response_number(llmkit_hook_event_response(e), "retry_after_ms", &retry);
        static_cast<Seen*>(data)->lines.push_back(std::to_string(int(retry)));
        return LLMKIT_OK;
      },
      &seen);
  Options call;
  call.set("header.x-upstream-fault", "status=429,retry_after=7");
  EXPECT_EQ(chat(&call), LLMKIT_RATE_LIMITED);
  EXPECT_EQ(seen.lines, std::vector<std::string>{"7000"});
}

TEST_F(HooksApi, ScopesAndPredicatesChooseTheHooks) {
  int runs = 0;
  ASSERT_EQ(llmkit_hooks_add_predicate(
                hooks_, "long_prompt",
                [](const llmkit_hook_event* e, void*) {
                  return static_cast<int>(get(e, "request").size() > 400);
                },
                nullptr),
            LLMKIT_OK);
  const auto count = [](llmkit_hook_event*, void* data) {
    ++*static_cast<int*>(data);
    return LLMKIT_OK;
  };
  add(LLMKIT_HOOK_FINALLY, "evaluation", nullptr, count, &runs);
  const uint64_t pred = add(LLMKIT_HOOK_FINALLY, nullptr, "pred:long_prompt", count, &runs);
  client();  // no scope
  ASSERT_EQ(chat(), LLMKIT_OK);
  EXPECT_EQ(runs, 0);
  client("evaluation");
  ASSERT_EQ(chat(), LLMKIT_OK);
  EXPECT_EQ(runs, 1);
  llmkit_request_add_message(request_, "user", std::string(500, 'x').c_str());
  ASSERT_EQ(chat(), LLMKIT_OK);
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(stat(pred, "skipped"), 2);
}

TEST_F(HooksApi, AsyncHooksRunLaterOnAReadOnlyCopy) {
  client();
  struct Log {
    std::string text;
    llmkit_status set = LLMKIT_OK;
  } log;
  add(
      LLMKIT_HOOK_AFTER, nullptr, nullptr,
      [](llmkit_hook_event* e, void* data) {
        auto* l = static_cast<Log*>(data);
        const char* text = nullptr;
        llmkit_response_get(llmkit_hook_event_response(e), "text", &text, nullptr);
        l->text = text;
        l->set = llmkit_hook_event_set_meta(e, "k", "v");
        return LLMKIT_OK;
      },
      &log, LLMKIT_HOOK_ASYNC);
  std::string text;
  ASSERT_EQ(chat(nullptr, &text), LLMKIT_OK);
  ASSERT_EQ(llmkit_hooks_flush(hooks_), LLMKIT_OK);
  EXPECT_EQ(log.text, text);
  EXPECT_EQ(log.set, LLMKIT_INVALID_ARGUMENT);
}

TEST_F(HooksApi, AClientKeepsItsHooksAfterTheirHandleIsFreed) {
  client();
  int runs = 0;
  add(
      LLMKIT_HOOK_AFTER, nullptr, nullptr,
      [](llmkit_hook_event*, void* data) {
        ++*static_cast<int*>(data);
        return LLMKIT_OK;
      },
      &runs);
  llmkit_hooks_free(hooks_);
  hooks_ = nullptr;
  ASSERT_EQ(chat(), LLMKIT_OK);
  EXPECT_EQ(runs, 1);
  ASSERT_EQ(llmkit_client_set_hooks(client_, nullptr), LLMKIT_OK);
  ASSERT_EQ(chat(), LLMKIT_OK);
  EXPECT_EQ(runs, 1);
}

TEST_F(HooksApi, BadInputGetsAClearStatus) {
  const auto ok = [](llmkit_hook_event*, void*) { return LLMKIT_OK; };
  EXPECT_EQ(llmkit_hooks_add(hooks_, LLMKIT_HOOK_BEFORE, nullptr, "model:gpt-4o and", 0, ok,
                             nullptr, nullptr),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("column"), std::string::npos);
  EXPECT_EQ(
      llmkit_hooks_add(nullptr, LLMKIT_HOOK_BEFORE, nullptr, nullptr, 0, ok, nullptr, nullptr),
      LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(
      llmkit_hooks_add(hooks_, LLMKIT_HOOK_BEFORE, nullptr, nullptr, 0, nullptr, nullptr, nullptr),
      LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_hooks_add(hooks_, LLMKIT_HOOK_BEFORE, nullptr, nullptr, 4, ok, nullptr, nullptr),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_hooks_add(hooks_, LLMKIT_HOOK_BEFORE, "\xff", nullptr, 0, ok, nullptr, nullptr),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_hooks_remove(hooks_, 12345), LLMKIT_NOT_FOUND);
  int64_t v = 0;
  EXPECT_EQ(llmkit_hooks_stat(hooks_, 12345, "calls", &v), LLMKIT_NOT_FOUND);
  const uint64_t id = add(LLMKIT_HOOK_BEFORE, nullptr, nullptr, ok, nullptr);
  EXPECT_EQ(llmkit_hooks_stat(hooks_, id, "speed", &v), LLMKIT_NOT_FOUND);
  EXPECT_EQ(llmkit_hooks_stat(hooks_, id, "calls", nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_hooks_add_predicate(hooks_, "two words", nullptr, nullptr),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_set_hooks(nullptr, hooks_), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_hook_event_get(nullptr, "model", nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_hook_event_response(nullptr), nullptr);
  EXPECT_EQ(llmkit_hook_event_answer(nullptr, "x"), LLMKIT_INVALID_ARGUMENT);
  Options bad;
  bad.set("queue_full", "spill");
  llmkit_hooks* h = nullptr;
  EXPECT_EQ(llmkit_hooks_new(bad.o, &h), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(h, nullptr);
  Options typo;
  typo.set("queue_sise", "10");
  EXPECT_EQ(llmkit_hooks_new(typo.o, &h), LLMKIT_INVALID_ARGUMENT);
  Options scopes;
  scopes.set("provider", "openai").set("api_key", "k").set("scopes", "a b");
  llmkit_client* c = nullptr;
  EXPECT_EQ(llmkit_client_new(scopes.o, &c), LLMKIT_INVALID_ARGUMENT);
}

}  // namespace
