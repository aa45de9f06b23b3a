// Behaviour of the C boundary as a C caller sees it.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "llmkit.h"
#include "support/fixture.h"
#include "support/upstream.h"

TEST(CApi, VersionMatchesTheHeader) {
  EXPECT_STREQ(llmkit_version(), LLMKIT_VERSION_STRING);
  EXPECT_EQ(llmkit_version_number(), LLMKIT_VERSION_NUMBER);
}

TEST(CApi, EveryStatusHasADistinctName) {
  std::set<std::string> names;
  for (int s = LLMKIT_OK; s <= LLMKIT_OVERLOADED; ++s) {
    const char* name = llmkit_status_str(static_cast<llmkit_status>(s));
    EXPECT_STRNE(name, "UNKNOWN") << s;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  // Out-of-range values are checked from C, where any int fits the enum:
  // test/integration/cli_test.sh (the CLI is C and walks the codes).
}

TEST(CApi, NullHandlesAndOutPointersAreInvalidArguments) {
  const char* value = nullptr;
  size_t n = 0;
  EXPECT_EQ(llmkit_options_new(nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "out is NULL");
  EXPECT_EQ(llmkit_options_set(nullptr, "k", "v"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_get(nullptr, "k", &value), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_unset(nullptr, "k"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_count(nullptr, &n), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_copy(nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  llmkit_options_free(nullptr);  // a no-op, by contract

  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  EXPECT_EQ(llmkit_options_set(o, nullptr, "v"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "key is NULL");
  EXPECT_EQ(llmkit_options_set(o, "k", nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_get(o, "k", nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_count(o, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_copy(o, nullptr), LLMKIT_INVALID_ARGUMENT);
  llmkit_options_free(o);
}

TEST(CApi, OptionsRoundTripAndCopiesAreIndependent) {
  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  ASSERT_EQ(llmkit_options_set(o, "model", "gpt-4o"), LLMKIT_OK);
  EXPECT_STREQ(llmkit_last_error(), "");

  llmkit_options* c = nullptr;
  ASSERT_EQ(llmkit_options_copy(o, &c), LLMKIT_OK);
  ASSERT_EQ(llmkit_options_set(o, "model", "o3"), LLMKIT_OK);

  const char* v = nullptr;
  ASSERT_EQ(llmkit_options_get(c, "model", &v), LLMKIT_OK);
  EXPECT_STREQ(v, "gpt-4o");
  ASSERT_EQ(llmkit_options_get(o, "model", &v), LLMKIT_OK);
  EXPECT_STREQ(v, "o3");

  EXPECT_EQ(llmkit_options_get(o, "absent", &v), LLMKIT_NOT_FOUND);
  EXPECT_STREQ(llmkit_last_error(), "option 'absent' is not set");
  EXPECT_EQ(llmkit_options_unset(o, "absent"), LLMKIT_NOT_FOUND);

  size_t n = 0;
  ASSERT_EQ(llmkit_options_count(o, &n), LLMKIT_OK);
  EXPECT_EQ(n, 1u);
  llmkit_options_free(c);
  llmkit_options_free(o);
}

TEST(CApi, BadInputGivesAClearMessage) {
  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  EXPECT_EQ(llmkit_options_set(o, "Bad Key", "v"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "invalid option key 'Bad Key'"), nullptr)
      << llmkit_last_error();
  EXPECT_EQ(llmkit_options_set(o, "k", "ab\xFF"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "byte offset 2"), nullptr) << llmkit_last_error();
  llmkit_options_free(o);
}

TEST(CApi, LastErrorIsPerThreadAndClearedBySuccess) {
  ASSERT_EQ(llmkit_options_new(nullptr), LLMKIT_INVALID_ARGUMENT);
  std::string other;
  std::thread([&] {
    other = llmkit_last_error();  // untouched by the main thread's failure
    llmkit_options_get(nullptr, "k", nullptr);
  }).join();
  EXPECT_EQ(other, "");
  EXPECT_STREQ(llmkit_last_error(), "out is NULL");  // not overwritten by the other thread

  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  EXPECT_STREQ(llmkit_last_error(), "");
  llmkit_options_free(o);
}

TEST(CApi, MessagesEscapeTheBytesTheyQuote) {
  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  EXPECT_EQ(llmkit_options_set(o, "k\xFF", "v"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "'k\\xFF'"), nullptr) << llmkit_last_error();
  llmkit_options_free(o);
}

// ---- Thinking across turns: a tool loop through the C API ------------------

namespace {

using llmkit::test::fixture;
using simdjson::dom::element;

// A recorded answer, parsed as a call would (llmkit_response_parse).
llmkit_response* parsed(const char* provider, const std::string& file) {
  const std::string body = fixture(file);
  llmkit_response* r = nullptr;
  llmkit_response_parse(provider, body.data(), body.size(), 0, &r);
  return r;
}

// A recorded SSE stream's first event, its JSON.
std::string first_event(const std::string& file) {
  const std::string sse = fixture(file);
  const std::size_t start = sse.find("data: ") + 6;
  return sse.substr(start, sse.find('\r', start) - start);
}

class CApiToolLoop : public ::testing::Test {
 protected:
  // Started by the first test for all of them; failing to start fails it.
  static const llmkit::test::Upstream& upstream() {
    static const llmkit::test::Upstream started;
    return started;
  }
  void SetUp() override { upstream().clear_requests(); }
  void TearDown() override {
    llmkit_client_free(client_);
    for (llmkit_response* r : responses_) llmkit_response_free(r);
    llmkit_request_free(request_);
  }

  // A client of `provider` on the upstream and an empty request for `model`.
  void start(const char* provider, const char* model) {
    llmkit_options* o = nullptr;
    llmkit_options_new(&o);
    llmkit_options_set(o, "provider", provider);
    const bool gemini = std::string(provider) == "gemini";
    llmkit_options_set(o, "base_url", upstream().url(gemini ? "/v1beta" : "").c_str());
    llmkit_options_set(o, "api_key", "test-key");
    EXPECT_EQ(llmkit_client_new(o, &client_), LLMKIT_OK) << llmkit_last_error();
    llmkit_options_free(o);
    llmkit_request_new(&request_);
    llmkit_request_set(request_, "model", model);
    llmkit_request_set(request_, "thinking_budget", "1024");
    llmkit_request_add_tool(request_, "get_country", nullptr, nullptr);
  }

  // Sends the request; the upstream answers with `recorded` (streamed when
  // it is an SSE file), or its default answer.
  llmkit_response* send(const char* recorded = nullptr, bool stream = false) {
    llmkit_options* call = nullptr;
    llmkit_options_new(&call);
    if (recorded != nullptr) llmkit_options_set(call, "header.x-upstream-fixture", recorded);
    if (stream) llmkit_options_set(call, "stream", "true");
    llmkit_response* r = nullptr;
    EXPECT_EQ(llmkit_client_chat(client_, request_, call, nullptr, nullptr, nullptr, &r), LLMKIT_OK)
        << llmkit_last_error();
    llmkit_options_free(call);
    responses_.push_back(r);
    return r;
  }

  // The body of the `index`th request the upstream received, parsed.
  element sent(std::size_t index) {
    log_ = upstream().requests();
    const std::string_view body = parser_.parse(log_).at(index)["body"].get_string().value();
    body_ = std::string(body);
    return body_parser_.parse(body_);
  }

  llmkit_client* client_ = nullptr;
  llmkit_request* request_ = nullptr;
  std::vector<llmkit_response*> responses_;

 private:
  std::string log_, body_;
  simdjson::dom::parser parser_, body_parser_;
};

TEST_F(CApiToolLoop, AnthropicGetsItsThinkingBackVerbatimBeforeTheToolUse) {
  start("anthropic", "claude-sonnet-4-20250514");
  llmkit_request_add_message(request_, "user", "What is the largest city in the user country?");
  llmkit_response* first = send("anthropic/tool_use_with_thinking");
  ASSERT_NE(first, nullptr);

  const char *text = nullptr, *signature = nullptr, *id = nullptr, *name = nullptr,
             *arguments = nullptr;
  int redacted = -1;
  double blocks = 0;
  ASSERT_EQ(llmkit_response_number(first, "thinking", &blocks), LLMKIT_OK);
  EXPECT_EQ(blocks, 1);
  ASSERT_EQ(llmkit_response_thinking(first, 0, &text, &signature, &redacted), LLMKIT_OK);
  EXPECT_EQ(redacted, 0);
  EXPECT_EQ(llmkit_response_thinking(first, 1, &text, &signature, &redacted), LLMKIT_NOT_FOUND);
  EXPECT_STREQ(llmkit_last_error(), "no thinking block 1 (the answer has 1)");
  ASSERT_EQ(llmkit_response_tool_call(first, 0, &id, &name, &arguments), LLMKIT_OK);

  ASSERT_EQ(llmkit_request_add_response(request_, first), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(llmkit_request_add_tool_result(request_, id, "Mexico"), LLMKIT_OK);
  ASSERT_NE(send(), nullptr);

  // The block as recorded, signature byte for byte, first in the turn.
  simdjson::dom::parser parser;
  const std::string recorded_body = fixture("anthropic/tool_use_with_thinking.json");
  const element recorded = parser.parse(recorded_body)["content"].value();
  const element turn = sent(1)["messages"].at(1).value();
  EXPECT_EQ(std::string_view(turn["role"]), "assistant");
  const element content = turn["content"].value();
  ASSERT_EQ(simdjson::dom::array(content).size(), 3u) << simdjson::to_string(turn);
  EXPECT_EQ(std::string_view(content.at(0)["type"]), "thinking");
  EXPECT_EQ(std::string_view(content.at(0)["signature"]),
            std::string_view(recorded.at(0)["signature"]));
  EXPECT_EQ(std::string_view(content.at(0)["thinking"]),
            std::string_view(recorded.at(0)["thinking"]));
  EXPECT_EQ(std::string_view(content.at(0)["signature"]), signature);
  EXPECT_EQ(std::string_view(content.at(1)["type"]), "text");
  EXPECT_EQ(std::string_view(content.at(2)["type"]), "tool_use");
  EXPECT_EQ(std::string_view(content.at(2)["id"]), id);
  EXPECT_EQ(std::string_view(sent(1)["messages"].at(2)["content"].at(0)["tool_use_id"]), id);
}

TEST_F(CApiToolLoop, GeminiGetsTheCallsSignatureBackOnItsFunctionCallPart) {
  start("gemini", "gemini-3-pro-preview");
  llmkit_request_add_message(request_, "user", "What is the capital of the user country?");
  llmkit_response* first = send("gemini/stream_function_call", true);
  ASSERT_NE(first, nullptr);
  const char *signature = nullptr, *id = nullptr, *name = nullptr, *arguments = nullptr;
  ASSERT_EQ(llmkit_response_tool_call(first, 0, &id, &name, &arguments), LLMKIT_OK);
  ASSERT_EQ(llmkit_response_tool_call_signature(first, 0, &signature), LLMKIT_OK);
  EXPECT_EQ(llmkit_response_tool_call_signature(first, 1, &signature), LLMKIT_NOT_FOUND);

  ASSERT_EQ(llmkit_request_add_response(request_, first), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(llmkit_request_add_tool_result(request_, id, "Mexico"), LLMKIT_OK);
  ASSERT_NE(send(), nullptr);

  simdjson::dom::parser parser;
  const std::string event = first_event("gemini/stream_function_call.sse");
  const element recorded =
      parser.parse(event)["candidates"].at(0)["content"]["parts"].at(0).value();
  const element parts = sent(1)["contents"].at(1)["parts"].value();
  ASSERT_EQ(simdjson::dom::array(parts).size(), 1u);
  EXPECT_EQ(std::string_view(parts.at(0)["functionCall"]["name"]), "get_country");
  EXPECT_EQ(std::string_view(parts.at(0)["thoughtSignature"]),
            std::string_view(recorded["thoughtSignature"]));
}

TEST_F(CApiToolLoop, AStoredTurnRebuiltPieceByPieceSendsWhatAddResponseSends) {
  start("gemini", "gemini-3-pro-preview");
  // A turn of every kind: thought, text signature, signed call.
  llmkit_response* thoughts = parsed("gemini", "gemini/thoughts.json");
  llmkit_response* call = parsed("gemini", "gemini/function_call.json");
  responses_.push_back(thoughts);
  responses_.push_back(call);
  ASSERT_EQ(llmkit_request_add_response(request_, thoughts), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(llmkit_request_add_response(request_, call), LLMKIT_OK) << llmkit_last_error();
  ASSERT_NE(send(), nullptr);

  // What an application stored: every field the answers gave, read back.
  llmkit_request* rebuilt = nullptr;
  llmkit_request_new(&rebuilt);
  llmkit_request_set(rebuilt, "model", "gemini-3-pro-preview");
  llmkit_request_set(rebuilt, "thinking_budget", "1024");
  llmkit_request_add_tool(rebuilt, "get_country", nullptr, nullptr);
  for (const llmkit_response* r : {thoughts, call}) {
    const char *text = nullptr, *signature = nullptr, *id = nullptr, *name = nullptr,
               *arguments = nullptr;
    int redacted = 0;
    llmkit_response_get(r, "text", &text, nullptr);
    ASSERT_EQ(llmkit_request_add_message(rebuilt, "assistant", text), LLMKIT_OK);
    for (size_t i = 0; llmkit_response_thinking(r, i, &text, &signature, &redacted) == LLMKIT_OK;
         ++i) {
      ASSERT_EQ(llmkit_request_add_thinking(rebuilt, text, signature, redacted), LLMKIT_OK)
          << llmkit_last_error();
    }
    for (size_t i = 0; llmkit_response_tool_call(r, i, &id, &name, &arguments) == LLMKIT_OK; ++i) {
      ASSERT_EQ(llmkit_request_add_tool_call(rebuilt, id, name, arguments), LLMKIT_OK);
      ASSERT_EQ(llmkit_response_tool_call_signature(r, i, &signature), LLMKIT_OK);
      ASSERT_EQ(llmkit_request_set_tool_call_signature(rebuilt, signature), LLMKIT_OK);
    }
  }
  std::swap(rebuilt, request_);
  llmkit_request_free(rebuilt);
  ASSERT_NE(send(), nullptr);
  EXPECT_EQ(simdjson::to_string(sent(1)), simdjson::to_string(sent(0)));
  EXPECT_NE(simdjson::to_string(sent(1)).find("thoughtSignature"), std::string::npos);
}

TEST(CApi, ThinkingCallsRefuseBadInputWithAClearMessage) {
  const char *text = nullptr, *signature = nullptr;
  int redacted = 0;
  llmkit_response* answer = parsed("anthropic", "anthropic/thinking.json");
  ASSERT_NE(answer, nullptr);
  llmkit_response* error = parsed("anthropic", "anthropic/error_429_rate_limit.json");
  ASSERT_NE(error, nullptr);
  llmkit_request* r = nullptr;
  ASSERT_EQ(llmkit_request_new(&r), LLMKIT_OK);

  EXPECT_EQ(llmkit_response_thinking(nullptr, 0, &text, &signature, &redacted),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "response is NULL");
  EXPECT_EQ(llmkit_response_thinking(answer, 0, &text, nullptr, &redacted),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "signature is NULL");
  EXPECT_EQ(llmkit_response_tool_call_signature(answer, 0, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_response_tool_call_signature(answer, 0, &signature), LLMKIT_NOT_FOUND);

  EXPECT_EQ(llmkit_request_add_response(nullptr, answer), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "request is NULL");
  EXPECT_EQ(llmkit_request_add_response(r, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "response is NULL");
  EXPECT_EQ(llmkit_request_add_response(r, error), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "an error answer"), nullptr) << llmkit_last_error();

  EXPECT_EQ(llmkit_request_add_thinking(nullptr, "t", "s", 0), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_add_thinking(r, "t", "s", 0), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "the request has no message yet");
  ASSERT_EQ(llmkit_request_add_message(r, "user", "hi"), LLMKIT_OK);
  EXPECT_EQ(llmkit_request_add_thinking(r, "t", "s", 0), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "a thinking block belongs to an assistant message");
  EXPECT_EQ(llmkit_request_set_tool_call_signature(r, "s"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "the last message has no tool call to sign");
  ASSERT_EQ(llmkit_request_add_message(r, "assistant", nullptr), LLMKIT_OK);
  EXPECT_EQ(llmkit_request_add_thinking(r, nullptr, nullptr, 0), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_add_thinking(r, "text", "data", 1), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_add_thinking(r, nullptr, nullptr, 1), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_add_thinking(r, "ab\xFF", "s", 0), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "byte offset 2"), nullptr) << llmkit_last_error();
  EXPECT_EQ(llmkit_request_add_thinking(r, nullptr, "data", 1), LLMKIT_OK);
  EXPECT_STREQ(llmkit_last_error(), "");
  ASSERT_EQ(llmkit_request_add_tool_call(r, "c1", "f", "{}"), LLMKIT_OK);
  EXPECT_EQ(llmkit_request_set_tool_call_signature(nullptr, "s"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_set_tool_call_signature(r, "s\xC3"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_set_tool_call_signature(r, "s"), LLMKIT_OK);
  EXPECT_EQ(llmkit_request_set_tool_call_signature(r, nullptr), LLMKIT_OK);

  llmkit_request_free(r);
  llmkit_response_free(error);
  llmkit_response_free(answer);
}

}  // namespace
