// Provider calls through the C API against test/upstream/upstream.py, the
// fake provider: every wire format whole and streamed, injected faults,
// timeouts, cancellation, async calls, embeddings in batches, and the API
// key kept out of everything a failing call prints.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "llmkit.h"
#include "support/c_options.h"
#include "support/fixture.h"
#include "support/loopback.h"
#include "support/upstream.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kKey = "sk-test-4f1c9a-never-print-me";

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

using Options = llmkit::test::COptions;

struct Request {
  llmkit_request* r = nullptr;
  explicit Request(const char* model = "m", const char* prompt = "Hello") {
    llmkit_request_new(&r);
    llmkit_request_set(r, "model", model);
    llmkit_request_add_message(r, "user", prompt);
  }
  ~Request() { llmkit_request_free(r); }
};

struct Response {
  llmkit_response* r = nullptr;
  ~Response() { llmkit_response_free(r); }
  std::string get(const char* field) const {
    const char* v = nullptr;
    size_t n = 0;
    EXPECT_EQ(llmkit_response_get(r, field, &v, &n), LLMKIT_OK) << field;
    return v == nullptr ? "" : std::string(v, n);
  }
  double number(const char* field) const {
    double v = -99;
    EXPECT_EQ(llmkit_response_number(r, field, &v), LLMKIT_OK) << field;
    return v;
  }
  std::string json() const {
    const char* j = nullptr;
    size_t n = 0;
    llmkit_response_json(r, &j, &n);
    return std::string(j, n);
  }
};

std::string expected_text(const std::string& fixture) {
  simdjson::dom::parser parser;
  const std::string text = llmkit::test::fixture(fixture + ".expected.json");
  return std::string(parser.parse(text)["text"].get_string().value());
}

class Client : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      upstream_ = std::make_unique<llmkit::test::Upstream>();
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override {
    ASSERT_NE(upstream_, nullptr) << "cannot start test/upstream/upstream.py: " << error_;
    http_delete_log();
  }
  void TearDown() override { llmkit_client_free(client_); }

  static std::string base_url(const std::string& provider) {
    if (provider == "openai" || provider == "openai-compatible") return upstream_->url("/v1");
    if (provider == "gemini") return upstream_->url("/v1beta");
    return upstream_->url();
  }
  // A client of `provider` on the upstream; `extra` adds options.
  llmkit_client* make(const std::string& provider, Options extra = Options()) {
    extra.set("provider", provider).set("base_url", base_url(provider)).set("api_key", kKey);
    // One try per call: these tests see each answer as the provider gave it.
    const char* attempts = nullptr;
    if (llmkit_options_get(extra.o, "retry.attempts", &attempts) != LLMKIT_OK) {
      extra.set("retry.attempts", "1");
    }
    llmkit_client_free(client_);
    client_ = nullptr;
    EXPECT_EQ(llmkit_client_new(extra.o, &client_), LLMKIT_OK) << llmkit_last_error();
    return client_;
  }
  static void http_delete_log() { upstream_->clear_requests(); }
  static std::string request_log() { return upstream_->requests(); }

  static std::unique_ptr<llmkit::test::Upstream> upstream_;
  static std::string error_;
  llmkit_client* client_ = nullptr;
};

std::unique_ptr<llmkit::test::Upstream> Client::upstream_;
std::string Client::error_;

struct Collected {
  std::string text, reasoning, args;
  std::vector<std::string> tool_names;
  int chunks = 0;
  llmkit_status answer = LLMKIT_OK;  // what the callback returns
  int stop_after = -1;               // return `answer` from this chunk on
};

llmkit_status collect(const llmkit_chunk* chunk, void* user_data) {
  auto& c = *static_cast<Collected*>(user_data);
  size_t n = 0;
  const char* t = llmkit_chunk_text(chunk, &n);
  switch (llmkit_chunk_get_kind(chunk)) {
    case LLMKIT_CHUNK_TEXT:
      c.text.append(t, n);
      break;
    case LLMKIT_CHUNK_REASONING:
      c.reasoning.append(t, n);
      break;
    case LLMKIT_CHUNK_TOOL_CALL:
      c.args.append(t, n);
      if (*llmkit_chunk_tool_name(chunk) != '\0')
        c.tool_names.push_back(llmkit_chunk_tool_name(chunk));
      break;
  }
  ++c.chunks;
  return c.stop_after >= 0 && c.chunks > c.stop_after ? c.answer : LLMKIT_OK;
}

struct Provider {
  const char* name;
  const char* whole;  // the upstream's default fixtures
  const char* stream;
};
constexpr Provider kProviders[] = {
    {"openai", "openai/chat_completion_text", "openai/stream_text_usage"},
    {"anthropic", "anthropic/message_text", "anthropic/stream_text"},
    {"gemini", "gemini/generate_text", "gemini/stream_text"},
    {"ollama", "ollama/chat_structured_text", "ollama/stream_thinking_text"},
};

TEST_F(Client, EachProviderAnswersAWholeCall) {
  for (const Provider& p : kProviders) {
    SCOPED_TRACE(p.name);
    make(p.name);
    Request req;
    Response res;
    ASSERT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, nullptr, nullptr, &res.r),
              LLMKIT_OK)
        << llmkit_last_error();
    EXPECT_EQ(res.get("text"), expected_text(p.whole));
    EXPECT_EQ(res.get("provider"), p.name);
    EXPECT_EQ(res.number("http_status"), 200);
    EXPECT_GT(res.number("latency_ms"), 0);
    EXPECT_EQ(res.number("first_token_ms"), -1);  // not streamed
    EXPECT_NE(llmkit_response_finish_reason(res.r), LLMKIT_FINISH_NONE);
  }
}

TEST_F(Client, AnAnswerCarriesItsCostOrSaysItHasNone) {
  make("openai");  // openai/chat_completion_text.json: gpt-4.1-2025-04-14, 19 in, 10 out
  Request req;
  Response priced;
  ASSERT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, nullptr, nullptr, &priced.r),
            LLMKIT_OK);
  EXPECT_NEAR(priced.number("cost_usd"), (19 * 2.00 + 10 * 8.00) / 1e6, 1e-12);
  make("ollama");  // a local model: no price in the built-in table
  Response unpriced;
  ASSERT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, nullptr, nullptr, &unpriced.r),
            LLMKIT_OK);
  EXPECT_EQ(unpriced.number("cost_usd"), -1);
}

TEST_F(Client, ATransientFailureIsTriedAgainWithinTheDeadline) {
  Options retrying;
  retrying.set("retry.attempts", "3").set("retry.base_ms", "5");
  make("anthropic", std::move(retrying));
  Request req;
  Options call;
  call.set("header.x-upstream-fault", "status=529,times=1,id=capi-retry")
      .set("deadline_ms", "10000");
  Response res;
  ASSERT_EQ(llmkit_client_chat(client_, req.r, call.o, nullptr, nullptr, nullptr, &res.r),
            LLMKIT_OK)
      << llmkit_last_error();
  EXPECT_EQ(res.number("attempts"), 2);
  EXPECT_EQ(res.get("text"), expected_text("anthropic/message_text"));
}

TEST_F(Client, AnOpenCircuitFailsCallsAtOnceUntilAProbePasses) {
  Options opts;
  opts.set("breaker.min_calls", "2").set("breaker.failure_rate", "1").set("breaker.open_ms", "300");
  make("openai", std::move(opts));
  Request req("gpt-4o");
  int64_t v = -1;
  EXPECT_EQ(llmkit_client_breaker_stat(client_, "gpt-4o", "state", &v), LLMKIT_NOT_FOUND);
  Options failing;
  failing.set("header.x-upstream-fault", "status=500");
  for (int i = 0; i < 2; ++i) {
    Response res;
    EXPECT_EQ(llmkit_client_chat(client_, req.r, failing.o, nullptr, nullptr, nullptr, &res.r),
              LLMKIT_PROVIDER_ERROR);
  }
  ASSERT_EQ(llmkit_client_breaker_stat(client_, "gpt-4o", "state", &v), LLMKIT_OK);
  EXPECT_EQ(v, 1);  // open
  http_delete_log();
  Response refused;
  EXPECT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, nullptr, nullptr, &refused.r),
            LLMKIT_UNAVAILABLE);
  EXPECT_NE(std::string(llmkit_last_error()).find("circuit for openai gpt-4o is open"),
            std::string::npos);
  EXPECT_EQ(request_log(), "[]");  // failed without being sent
  ASSERT_EQ(llmkit_client_breaker_stat(client_, "gpt-4o", "rejected", &v), LLMKIT_OK);
  EXPECT_EQ(v, 1);
  // Another model of the client is another deployment: unaffected.
  Request other("gpt-4o-mini");
  Response fine;
  EXPECT_EQ(llmkit_client_chat(client_, other.r, nullptr, nullptr, nullptr, nullptr, &fine.r),
            LLMKIT_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(350));  // open_ms passes
  Response probe;
  EXPECT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, nullptr, nullptr, &probe.r),
            LLMKIT_OK);
  ASSERT_EQ(llmkit_client_breaker_stat(client_, "gpt-4o", "state", &v), LLMKIT_OK);
  EXPECT_EQ(v, 0);  // closed again
  EXPECT_EQ(llmkit_client_breaker_stat(client_, "gpt-4o", "speed", &v), LLMKIT_NOT_FOUND);
}

TEST_F(Client, EachProviderStreamsPiecesThatAddUpToTheAnswer) {
  for (const Provider& p : kProviders) {
    SCOPED_TRACE(p.name);
    make(p.name);
    Request req;
    Response res;
    Collected got;
    ASSERT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, collect, &got, &res.r),
              LLMKIT_OK)
        << llmkit_last_error();
    EXPECT_EQ(got.text, expected_text(p.stream));
    EXPECT_EQ(got.text, res.get("text"));
    EXPECT_EQ(got.reasoning, res.get("reasoning"));
    EXPECT_GT(got.chunks, 0);
    EXPECT_EQ(res.number("chunks"), got.chunks);
    EXPECT_GE(res.number("first_token_ms"), 0);
    EXPECT_LE(res.number("first_token_ms"), res.number("latency_ms"));
    EXPECT_GE(res.number("max_gap_ms"), 0);
  }
}

TEST_F(Client, AStreamedToolCallArrivesInPieces) {
  make("anthropic");
  Options call;
  call.set("header.x-upstream-fixture", "anthropic/stream_tool_use")
      .set("header.x-upstream-fault", "chunk=7");
  Request req;
  Response res;
  Collected got;
  ASSERT_EQ(llmkit_client_chat(client_, req.r, call.o, nullptr, collect, &got, &res.r), LLMKIT_OK)
      << llmkit_last_error();
  ASSERT_EQ(res.number("tool_calls"), 1);
  const char *id, *name, *args;
  ASSERT_EQ(llmkit_response_tool_call(res.r, 0, &id, &name, &args), LLMKIT_OK);
  EXPECT_EQ(got.args, args);
  ASSERT_EQ(got.tool_names.size(), 1u);
  EXPECT_EQ(got.tool_names[0], name);
  EXPECT_EQ(llmkit_response_finish_reason(res.r), LLMKIT_FINISH_TOOL_CALLS);
  EXPECT_EQ(llmkit_response_tool_call(res.r, 1, &id, &name, &args), LLMKIT_NOT_FOUND);
}

TEST_F(Client, TheKeyGoesInEachProvidersOwnHeader) {
  for (const Provider& p : kProviders) {
    make(p.name);
    Request req;
    Response res;
    ASSERT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, nullptr, nullptr, &res.r),
              LLMKIT_OK);
  }
  simdjson::dom::parser parser;
  const std::string log = request_log();
  const auto requests = parser.parse(log).get_array().value();
  ASSERT_EQ(requests.size(), 4u);
  const auto header = [](simdjson::dom::element r, const char* name) {
    std::string_view v;
    return r["headers"][name].get(v) ? std::string() : std::string(v);
  };
  const auto path = [](simdjson::dom::element r) {
    return std::string(r["path"].get_string().value());
  };
  EXPECT_EQ(path(requests.at(0)), "/v1/chat/completions");
  EXPECT_EQ(header(requests.at(0), "authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(path(requests.at(1)), "/v1/messages");
  EXPECT_EQ(header(requests.at(1), "x-api-key"), kKey);
  EXPECT_EQ(header(requests.at(1), "anthropic-version"), "2023-06-01");
  EXPECT_EQ(path(requests.at(2)), "/v1beta/models/m:generateContent");
  EXPECT_EQ(header(requests.at(2), "x-goog-api-key"), kKey);
  EXPECT_EQ(path(requests.at(3)), "/api/chat");
  for (const auto r : requests)
    EXPECT_EQ(std::string(r["query"].get_string().value()).find(kKey), std::string::npos);
}

TEST_F(Client, ProviderErrorsMapToStatusesWithTheirDetails) {
  struct Case {
    const char* provider;
    const char* fault;
    llmkit_status status;
    double retry_after_ms;
  };
  const Case cases[] = {
      {"openai", "status=429,retry_after=2", LLMKIT_RATE_LIMITED, 2000},
      {"openai", "status=429,retry_after_ms=1500", LLMKIT_RATE_LIMITED, 1500},
      {"anthropic", "status=529", LLMKIT_OVERLOADED, -1},
      {"gemini", "status=503", LLMKIT_OVERLOADED, -1},
      {"openai", "status=500", LLMKIT_PROVIDER_ERROR, -1},
      {"anthropic", "status=401", LLMKIT_AUTH, -1},
      {"gemini", "status=400", LLMKIT_INVALID_ARGUMENT, -1},
      {"ollama", "status=404", LLMKIT_NOT_FOUND, -1},
      {"openai", "status=504", LLMKIT_TIMEOUT, -1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.provider) + " " + c.fault);
    make(c.provider);
    Options call;
    call.set("header.x-upstream-fault", c.fault);
    Request req;
    Response res;
    EXPECT_EQ(llmkit_client_chat(client_, req.r, call.o, nullptr, nullptr, nullptr, &res.r),
              c.status);
    EXPECT_NE(std::string(llmkit_last_error()).find("injected status"), std::string::npos)
        << llmkit_last_error();
    ASSERT_NE(res.r, nullptr);
    EXPECT_EQ(res.number("status"), c.status);
    EXPECT_EQ(res.number("retry_after_ms"), c.retry_after_ms);
    EXPECT_FALSE(res.get("error.message").empty());
    EXPECT_EQ(llmkit_response_finish_reason(res.r), LLMKIT_FINISH_ERROR);
  }
}

TEST_F(Client, BrokenAnswersAreErrorsNeverSuccesses) {
  struct Case {
    const char* provider;
    const char* fault;
    bool stream;
    llmkit_status status;
    const char* says;
  };
  const Case cases[] = {
      {"openai", "truncate", true, LLMKIT_NETWORK, "stream truncated"},
      {"anthropic", "truncate", true, LLMKIT_NETWORK, "stream truncated"},
      {"gemini", "truncate", true, LLMKIT_NETWORK, "stream truncated"},
      {"ollama", "truncate", true, LLMKIT_NETWORK, "stream truncated"},
      {"openai", "truncate", false, LLMKIT_NETWORK, ""},
      {"anthropic", "reset=100", true, LLMKIT_NETWORK, ""},
      {"openai", "reset=10", false, LLMKIT_NETWORK, ""},
      {"openai", "malformed", false, LLMKIT_PROVIDER_ERROR, "not valid JSON"},
      {"anthropic", "malformed", true, LLMKIT_PROVIDER_ERROR, "not valid JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.provider) + " " + c.fault + (c.stream ? " stream" : ""));
    make(c.provider);
    Options call;
    call.set("header.x-upstream-fault", c.fault);
    if (c.stream) call.set("stream", "true");
    Request req;
    Response res;
    EXPECT_EQ(llmkit_client_chat(client_, req.r, call.o, nullptr, nullptr, nullptr, &res.r),
              c.status);
    EXPECT_NE(std::string(llmkit_last_error()).find(c.says), std::string::npos)
        << llmkit_last_error();
  }
}

TEST_F(Client, TimeoutsEndCallsEarly) {
  make("openai");
  struct Case {
    const char* fault;
    const char* option;
    bool stream;
  };
  const Case cases[] = {{"delay=3000", "timeout.first_byte", false},
                        {"stall=3000", "timeout.idle", true},
                        {"drip=300", "timeout.total", true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.option);
    Options call;
    call.set("header.x-upstream-fault", c.fault).set(c.option, "200");
    if (c.stream) call.set("stream", "true");
    Request req;
    Response res;
    const auto start = Clock::now();
    EXPECT_EQ(llmkit_client_chat(client_, req.r, call.o, nullptr, nullptr, nullptr, &res.r),
              LLMKIT_TIMEOUT)
        << llmkit_last_error();
    EXPECT_LT(ms_since(start), 2500);
  }
}

TEST_F(Client, CancelFromAnotherThreadOrFromTheStreamCallback) {
  make("openai");
  llmkit_cancel* cancel = nullptr;
  ASSERT_EQ(llmkit_cancel_new(&cancel), LLMKIT_OK);
  Options call;
  call.set("header.x-upstream-fault", "delay=5000");
  Request req;
  Response res;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    llmkit_cancel_trigger(cancel);
  });
  const auto start = Clock::now();
  EXPECT_EQ(llmkit_client_chat(client_, req.r, call.o, cancel, nullptr, nullptr, &res.r),
            LLMKIT_CANCELLED);
  EXPECT_LT(ms_since(start), 3000);
  canceller.join();
  llmkit_cancel_free(cancel);

  // The callback says stop after its second piece, with the stream still dripping.
  Options drip;
  drip.set("header.x-upstream-fault", "drip=500");
  Collected got;
  got.stop_after = 2;
  got.answer = LLMKIT_CANCELLED;
  Response stopped;
  const auto begun = Clock::now();
  EXPECT_EQ(llmkit_client_chat(client_, req.r, drip.o, nullptr, collect, &got, &stopped.r),
            LLMKIT_CANCELLED);
  EXPECT_EQ(got.chunks, 3);
  EXPECT_LT(ms_since(begun), 4000);  // the whole stream would take 6 s
}

TEST_F(Client, AsyncCallsFromManyThreadsEachEndOnce) {
  make("anthropic");
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    int done = 0, ok = 0;
    std::string text;
  } shared;
  const auto on_done = [](llmkit_status status, llmkit_response* response, void* user_data) {
    auto& s = *static_cast<Shared*>(user_data);
    const char* text = "";
    if (response != nullptr) llmkit_response_get(response, "text", &text, nullptr);
    std::lock_guard<std::mutex> lock(s.mutex);
    s.text = text;
    s.ok += status == LLMKIT_OK;
    ++s.done;
    llmkit_response_free(response);
    s.cv.notify_one();
  };
  Request req;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(
            llmkit_client_chat_async(client_, req.r, nullptr, nullptr, nullptr, on_done, &shared),
            LLMKIT_OK);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::unique_lock<std::mutex> lock(shared.mutex);
  ASSERT_TRUE(
      shared.cv.wait_for(lock, std::chrono::seconds(30), [&] { return shared.done == 40; }));
  EXPECT_EQ(shared.ok, 40);
  EXPECT_EQ(shared.text, expected_text("anthropic/message_text"));
}

TEST_F(Client, AnAsyncCallThatCannotStartReportsAtOnceAndNeverCallsBack) {
  make("openai");
  llmkit_request* no_model = nullptr;
  llmkit_request_new(&no_model);
  llmkit_request_add_message(no_model, "user", "hi");
  static std::atomic<int> calls{0};
  const auto on_done = [](llmkit_status, llmkit_response* r, void*) {
    llmkit_response_free(r);
    ++calls;
  };
  EXPECT_EQ(
      llmkit_client_chat_async(client_, no_model, nullptr, nullptr, nullptr, on_done, nullptr),
      LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("no model"), std::string::npos);
  EXPECT_EQ(
      llmkit_client_chat_async(client_, no_model, nullptr, nullptr, nullptr, nullptr, nullptr),
      LLMKIT_INVALID_ARGUMENT);
  llmkit_request_free(no_model);
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(Client, ClosingAClientEndsItsAsyncCallsCancelled) {
  make("openai");
  struct Shared {
    std::atomic<int> done{0}, cancelled{0};
  } shared;
  const auto on_done = [](llmkit_status status, llmkit_response* r, void* user_data) {
    auto& s = *static_cast<Shared*>(user_data);
    llmkit_response_free(r);
    s.cancelled += status == LLMKIT_CANCELLED;
    ++s.done;
  };
  Options call;
  call.set("header.x-upstream-fault", "delay=5000");
  Request req;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(llmkit_client_chat_async(client_, req.r, call.o, nullptr, nullptr, on_done, &shared),
              LLMKIT_OK);
  }
  const auto start = Clock::now();
  llmkit_client_free(client_);
  client_ = nullptr;
  EXPECT_LT(ms_since(start), 3000);
  EXPECT_EQ(shared.done.load(), 5);
  EXPECT_EQ(shared.cancelled.load(), 5);
}

TEST_F(Client, EmbeddingsAreBatchedPerProviderAndComeBackInOrder) {
  struct Case {
    const char* provider;
    size_t inputs;
    size_t batches;
  };
  for (const Case c : {Case{"openai", 4100, 3}, Case{"gemini", 250, 3}, Case{"ollama", 1030, 3}}) {
    SCOPED_TRACE(c.provider);
    http_delete_log();
    make(c.provider);
    std::vector<std::string> texts;
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (size_t i = 0; i < c.inputs; ++i) texts.push_back("input number " + std::to_string(i));
    for (const auto& t : texts) ptrs.push_back(t.c_str()), lens.push_back(t.size());
    llmkit_vectors* v = nullptr;
    ASSERT_EQ(
        llmkit_client_embed(client_, "e", ptrs.data(), lens.data(), c.inputs, nullptr, nullptr, &v),
        LLMKIT_OK)
        << llmkit_last_error();
    ASSERT_EQ(llmkit_vectors_count(v), c.inputs);
    for (size_t i = 0; i < c.inputs; ++i) {
      const float* values = nullptr;
      size_t dims = 0;
      ASSERT_EQ(llmkit_vectors_get(v, i, &values, &dims), LLMKIT_OK);
      ASSERT_GE(dims, 2u);
      // The upstream's vector for a text is [its length, the sum of its bytes, ...].
      unsigned sum = 0;
      for (unsigned char ch : texts[i]) sum += ch;
      ASSERT_EQ(values[0], static_cast<float>(texts[i].size())) << i;
      ASSERT_EQ(values[1], static_cast<float>(sum)) << i;
    }
    llmkit_vectors_free(v);
    simdjson::dom::parser parser;
    const std::string log = request_log();
    EXPECT_EQ(parser.parse(log).get_array().value().size(), c.batches);
  }
}

TEST_F(Client, OneFailingBatchFailsTheEmbeddingsCall) {
  make("openai");
  Options call;
  call.set("header.x-upstream-fault", "status=500,times=1,id=batch");
  std::vector<std::string> texts(3000, "x");
  std::vector<const char*> ptrs(texts.size(), "x");
  std::vector<size_t> lens(texts.size(), 1);
  llmkit_vectors* v = nullptr;
  EXPECT_EQ(llmkit_client_embed(client_, "e", ptrs.data(), lens.data(), texts.size(), call.o,
                                nullptr, &v),
            LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(v, nullptr);
  EXPECT_EQ(llmkit_client_embed(client_, "e", ptrs.data(), lens.data(), 0, nullptr, nullptr, &v),
            LLMKIT_OK);
  EXPECT_EQ(llmkit_vectors_count(v), 0u);
  llmkit_vectors_free(v);
}

TEST_F(Client, AFailingCallNeverPrintsTheKey) {
  std::string everything;
  const auto record = [&](llmkit_status, const Response& res) {
    everything += llmkit_last_error();
    if (res.r == nullptr) return;
    for (const char* f : {"text", "error.message", "error.detail", "raw", "model", "id"}) {
      everything += res.get(f);
    }
    everything += res.json();
  };
  for (const char* fault : {"status=401", "status=500", "reset=5", "malformed", "truncate"}) {
    make("openai");
    Options call;
    call.set("header.x-upstream-fault", fault).set("raw", "true");
    Request req;
    Response res;
    record(llmkit_client_chat(client_, req.r, call.o, nullptr, nullptr, nullptr, &res.r), res);
  }
  // A server that is not there, and a bad base URL.
  for (const char* url : {"http://127.0.0.1:1/v1", "htp://nowhere"}) {
    Options o;
    o.set("provider", "openai").set("base_url", url).set("api_key", kKey);
    llmkit_client* c = nullptr;
    ASSERT_EQ(llmkit_client_new(o.o, &c), LLMKIT_OK);
    Request req;
    Response res;
    EXPECT_NE(llmkit_client_chat(c, req.r, nullptr, nullptr, nullptr, nullptr, &res.r), LLMKIT_OK);
    record(LLMKIT_OK, res);
    llmkit_client_free(c);
  }
  EXPECT_FALSE(everything.empty());
  EXPECT_EQ(everything.find(kKey), std::string::npos) << everything;
  EXPECT_EQ(everything.find("never-print"), std::string::npos);
}

TEST_F(Client, ProxiesComeFromTheEnvironmentAsTheClientIsMadeOrFromTheOption) {
  // A proxy nobody listens on: calls through it fail, calls around it work.
  const std::string dead = "http://127.0.0.1:" + std::to_string(llmkit::test::free_port());
  const auto call = [&](Options& o) {
    o.set("provider", "openai").set("base_url", base_url("openai")).set("api_key", "sk-test");
    o.set("retry.attempts", "1");
    llmkit_client* c = nullptr;
    EXPECT_EQ(llmkit_client_new(o.o, &c), LLMKIT_OK);
    Request req;
    Response res;
    const llmkit_status s =
        llmkit_client_chat(c, req.r, nullptr, nullptr, nullptr, nullptr, &res.r);
    llmkit_client_free(c);
    return s;
  };
  ASSERT_EQ(setenv("http_proxy", dead.c_str(), 1), 0);
  Options through_env;
  EXPECT_EQ(call(through_env), LLMKIT_NETWORK);
  ASSERT_EQ(setenv("no_proxy", "localhost,127.0.0.1", 1), 0);
  Options around;
  EXPECT_EQ(call(around), LLMKIT_OK);
  ASSERT_EQ(unsetenv("http_proxy"), 0);
  ASSERT_EQ(unsetenv("no_proxy"), 0);
  Options through_option;
  through_option.set("proxy", dead);
  EXPECT_EQ(call(through_option), LLMKIT_NETWORK);
}

TEST_F(Client, KeysComeFromTheProvidersOwnEnvironmentVariableOnly) {
  ASSERT_EQ(setenv("OPENAI_API_KEY", "sk-from-env", 1), 0);
  Options openai;
  openai.set("provider", "openai").set("base_url", base_url("openai"));
  ASSERT_EQ(llmkit_client_new(openai.o, &client_), LLMKIT_OK);
  Request req;
  Response a;
  ASSERT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, nullptr, nullptr, &a.r),
            LLMKIT_OK);
  llmkit_client_free(client_);
  client_ = nullptr;
  // An OpenAI-compatible server is another party: OPENAI_API_KEY is not sent there.
  Options compatible;
  compatible.set("provider", "openai-compatible").set("base_url", base_url("openai"));
  ASSERT_EQ(llmkit_client_new(compatible.o, &client_), LLMKIT_OK);
  Response b;
  ASSERT_EQ(llmkit_client_chat(client_, req.r, nullptr, nullptr, nullptr, nullptr, &b.r),
            LLMKIT_OK);
  const std::string log = request_log();
  EXPECT_NE(log.find("Bearer sk-from-env"), std::string::npos);
  EXPECT_EQ(log.find("sk-from-env"), log.rfind("sk-from-env"));  // once: the first call only
  ASSERT_EQ(unsetenv("OPENAI_API_KEY"), 0);
  ASSERT_EQ(unsetenv("ANTHROPIC_API_KEY"), 0);
  Options anthropic;
  anthropic.set("provider", "anthropic");
  llmkit_client* none = nullptr;
  EXPECT_EQ(llmkit_client_new(anthropic.o, &none), LLMKIT_AUTH);
  EXPECT_NE(std::string(llmkit_last_error()).find("ANTHROPIC_API_KEY"), std::string::npos);
}

TEST_F(Client, BadArgumentsAreClearErrors) {
  Options bad;
  bad.set("provider", "openia");
  llmkit_client* c = nullptr;
  EXPECT_EQ(llmkit_client_new(bad.o, &c), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("unknown provider"), std::string::npos);
  Options typo;
  typo.set("provider", "ollama").set("timout.total", "5");
  EXPECT_EQ(llmkit_client_new(typo.o, &c), LLMKIT_INVALID_ARGUMENT);
  Options no_url;
  no_url.set("provider", "openai-compatible");
  EXPECT_EQ(llmkit_client_new(no_url.o, &c), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_new(nullptr, &c), LLMKIT_INVALID_ARGUMENT);

  make("openai");
  Request req;
  llmkit_response* res = reinterpret_cast<llmkit_response*>(1);
  EXPECT_EQ(llmkit_client_chat(nullptr, req.r, nullptr, nullptr, nullptr, nullptr, &res),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(res, nullptr);
  EXPECT_EQ(llmkit_client_chat(client_, nullptr, nullptr, nullptr, nullptr, nullptr, &res),
            LLMKIT_INVALID_ARGUMENT);
  Options unknown;
  unknown.set("strem", "true");
  EXPECT_EQ(llmkit_client_chat(client_, req.r, unknown.o, nullptr, nullptr, nullptr, &res),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_set(req.r, "temperature", "hot"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_set(req.r, "extra", "[1]"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_add_message(req.r, "system", "x"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_add_message(req.r, "user", "\xC3\x28"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_add_image(req.r, "ftp://x"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_request_add_tool_call(req.r, "id", "f", "{}"),
            LLMKIT_INVALID_ARGUMENT);  // a user message
  EXPECT_EQ(llmkit_response_number(nullptr, "chunks", nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_response_finish_reason(nullptr), LLMKIT_FINISH_NONE);
  EXPECT_STREQ(llmkit_finish_reason_str(LLMKIT_FINISH_TOOL_CALLS), "tool_calls");
}

TEST_F(Client, RecordedAnswersParseWithoutANetwork) {
  const std::string body = llmkit::test::fixture("anthropic/error_529_overloaded.json");
  llmkit_response* res = nullptr;
  EXPECT_EQ(llmkit_response_parse("anthropic", body.data(), body.size(), 0, &res),
            LLMKIT_OVERLOADED);
  ASSERT_NE(res, nullptr);
  llmkit_response_free(res);
  EXPECT_EQ(llmkit_response_parse("anthropic", "{", 1, 0, &res), LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(res, nullptr);
  const std::string cut = "data: {\"choices\":[]}\n\n";
  EXPECT_EQ(llmkit_response_parse("openai", cut.data(), cut.size(), 1, &res), LLMKIT_NETWORK);
  EXPECT_EQ(res, nullptr);
}

}  // namespace
