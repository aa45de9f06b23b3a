// Every recorded provider answer in test/fixtures/<provider>/ with a
// <name>.expected.json is parsed (whole, or streamed in every way the
// network could split it) and must give exactly the expected normalised
// answer.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "pipeline/cached_answer.h"
#include "providers/provider.h"
#include "support/fixture.h"

namespace llmkit::providers {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string provider;
  std::string name;
  std::string body_file;  // relative to the fixtures folder
  bool stream;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* p : {"openai", "anthropic", "gemini", "ollama"}) {
    for (const auto& e : fs::directory_iterator(fs::path(LLMKIT_FIXTURES_DIR) / p)) {
      const std::string file = e.path().filename().string();
      static const std::string kExpected = ".expected.json";
      if (file.size() <= kExpected.size() ||
          file.compare(file.size() - kExpected.size(), kExpected.size(), kExpected) != 0) {
        continue;
      }
      const std::string name = file.substr(0, file.size() - kExpected.size());
      for (const char* ext : {".sse", ".ndjson", ".json"}) {
        if (fs::exists(e.path().parent_path() / (name + ext))) {
          out.push_back({p, name, std::string(p) + "/" + name + ext, std::string(ext) != ".json"});
          break;
        }
      }
    }
  }
  return out;
}

// The normalised form, compact, in the order llmkit writes it.
std::string normalised(const Response& r) {
  String out;
  append_json(out, r);
  return std::string(out);
}

std::string expected(const Case& c) {
  simdjson::dom::parser parser;
  const std::string text = test::fixture(c.provider + "/" + c.name + ".expected.json");
  return simdjson::minify(parser.parse(text));
}

// Streams `body` in pieces of the given sizes (the last takes the rest).
Response stream(const Provider& p, std::string_view body, const std::vector<std::size_t>& sizes,
                std::string* text_deltas = nullptr) {
  Response r;
  auto decoder = p.decoder(r, [&](const Delta& d) {
    if (text_deltas != nullptr && d.kind == Delta::kText) text_deltas->append(d.text);
  });
  std::size_t at = 0;
  for (std::size_t n : sizes) {
    if (at >= body.size()) break;
    n = std::min(n, body.size() - at);
    decoder->feed(body.substr(at, n));
    at += n;
  }
  if (at < body.size()) decoder->feed(body.substr(at));
  decoder->finish();
  return r;
}

TEST(ProvidersFixture, ThereAreAtLeastThirtyCoveringEveryProvider) {
  const auto all = cases();
  EXPECT_GE(all.size(), 30u);
  for (const char* p : {"openai", "anthropic", "gemini", "ollama"}) {
    int whole = 0, streamed = 0;
    for (const auto& c : all) {
      if (c.provider == p) ++(c.stream ? streamed : whole);
    }
    EXPECT_GT(whole, 0) << p;
    EXPECT_GT(streamed, 0) << p;
  }
}

TEST(ProvidersFixture, EachParsesToItsExpectedAnswer) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.body_file);
    const Provider& p = provider(c.provider);
    const std::string body = test::fixture(c.body_file);
    Response r;
    if (c.stream) {
      r = stream(p, body, {body.size()});
    } else {
      p.parse(body, r);
    }
    EXPECT_EQ(normalised(r), expected(c));
  }
}

// A client's cache keeps each answer as a record (pipeline/cached_answer.h)
// that reads back exactly, every fixture's answer and every field.
TEST(ProvidersFixture, EachAnswerReadsBackExactlyFromItsCacheRecord) {
  int answers = 0;
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.body_file);
    const Provider& p = provider(c.provider);
    const std::string body = test::fixture(c.body_file);
    Response r;
    if (c.stream) {
      r = stream(p, body, {body.size()});
    } else {
      p.parse(body, r);
    }
    if (r.status != LLMKIT_OK) continue;  // errors are never stored
    const auto back = llmkit::pipeline::decode_answer(llmkit::pipeline::encode_answer(r));
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(normalised(*back), normalised(r));
    EXPECT_EQ(back->model, r.model);
    EXPECT_EQ(back->id, r.id);
    EXPECT_EQ(back->finish_raw, r.finish_raw);
    ++answers;
  }
  EXPECT_GE(answers, 20);
}

TEST(ProvidersFixture, StreamsGiveTheSameAnswerByteByByteAndInRandomSplits) {
  std::mt19937 rng(20261123);
  for (const auto& c : cases()) {
    if (!c.stream) continue;
    SCOPED_TRACE(c.body_file);
    const Provider& p = provider(c.provider);
    const std::string body = test::fixture(c.body_file);
    const std::string want = expected(c);
    std::string deltas;
    const Response bytewise = stream(p, body, std::vector<std::size_t>(body.size(), 1), &deltas);
    EXPECT_EQ(normalised(bytewise), want);
    EXPECT_EQ(deltas, std::string(bytewise.text));  // the pieces handed out add up to the text
    for (int round = 0; round < 20; ++round) {
      std::vector<std::size_t> sizes;
      std::uniform_int_distribution<std::size_t> size(1, 97);
      for (std::size_t at = 0; at < body.size();) sizes.push_back(size(rng)), at += sizes.back();
      EXPECT_EQ(normalised(stream(p, body, sizes)), want) << "round " << round;
    }
  }
}

TEST(ProvidersFixture, AStreamCutBeforeItsLastEventIsTruncated) {
  for (const auto& c : cases()) {
    if (!c.stream) continue;
    SCOPED_TRACE(c.body_file);
    const Provider& p = provider(c.provider);
    std::string body = test::fixture(c.body_file);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    // Without its last line end the last event (or line) never completes.
    for (const std::size_t cut : {body.size(), body.size() / 2}) {
      try {
        stream(p, std::string_view(body).substr(0, cut), {cut});
        if (cut == body.size()) ADD_FAILURE() << "a stream cut at " << cut << " passed";
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), LLMKIT_NETWORK) << e.what();
        EXPECT_NE(std::string(e.what()).find("stream truncated"), std::string::npos);
      }
    }
  }
}

TEST(ProvidersFixture, AnErrorInsideAStreamIsTheProvidersError) {
  const Provider& p = provider("anthropic");
  const std::string body = test::fixture("anthropic/stream_error_overloaded.sse");
  const Response r = stream(p, body, {body.size()});
  EXPECT_EQ(r.status, LLMKIT_OVERLOADED);
  EXPECT_EQ(r.detail, "overloaded");
  EXPECT_FALSE(r.message.empty());
}

TEST(ProvidersFixture, ErrorBodiesKeepRetryHintsAndContextLengthDetail) {
  Response gemini;
  provider("gemini").parse(test::fixture("gemini/error_429_resource_exhausted.json"), gemini);
  EXPECT_EQ(gemini.status, LLMKIT_RATE_LIMITED);
  EXPECT_EQ(gemini.retry_after_ms, 26000);

  Response openai;
  provider("openai").parse(test::fixture("openai/error_400_context_length_exceeded.json"), openai);
  EXPECT_EQ(openai.status, LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(openai.detail, "context_length_exceeded");

  Response anthropic;
  provider("anthropic").parse(test::fixture("anthropic/error_400_prompt_too_long.json"), anthropic);
  EXPECT_EQ(anthropic.status, LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(anthropic.detail, "context_length_exceeded");
}

// Thinking blocks no recording here has: Anthropic's redacted_thinking, and
// Gemini's thought streamed in pieces, each stream split at random, next to
// the same answer whole.
void expect_stream_matches_whole(std::string_view p, const std::string& sse,
                                 const std::string& whole) {
  Response r;
  provider(p).parse(whole, r);
  const std::string want = normalised(r);
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> size(1, 23);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::size_t> sizes;
    for (std::size_t at = 0; at < sse.size();) sizes.push_back(size(rng)), at += sizes.back();
    EXPECT_EQ(normalised(stream(provider(p), sse, sizes)), want) << "round " << round;
  }
}

TEST(ProvidersFixture, AnthropicThinkingAndRedactedBlocksInOrder) {
  const auto event = [](const std::string& type, const std::string& rest) {
    return "event: " + type + "\ndata: {\"type\":\"" + type + "\"" + rest + "}\n\n";
  };
  const auto delta = [&](int index, const std::string& body) {
    return event("content_block_delta",
                 R"(,"index":)" + std::to_string(index) + R"(,"delta":)" + body);
  };
  const std::string sse =
      event("message_start",
            R"(,"message":{"id":"msg_1","model":"claude","usage":{"input_tokens":10}})") +
      event("content_block_start",
            R"(,"index":0,"content_block":{"type":"thinking","thinking":"","signature":""})") +
      delta(0, R"({"type":"thinking_delta","thinking":"Let me "})") +
      delta(0, R"({"type":"thinking_delta","thinking":"think."})") +
      delta(0, R"({"type":"signature_delta","signature":"c2lnLTE="})") +
      event("content_block_stop", R"(,"index":0)") +
      event("content_block_start",
            R"(,"index":1,"content_block":{"type":"redacted_thinking","data":"cmVkYWN0ZWQ="})") +
      event("content_block_stop", R"(,"index":1)") +
      event("content_block_start",
            R"(,"index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather",)"
            R"("input":{}})") +
      delta(2, R"({"type":"input_json_delta","partial_json":"{\"city\":\"Paris\"}"})") +
      event("content_block_stop", R"(,"index":2)") +
      event("message_delta",
            R"(,"delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":20})") +
      event("message_stop", "");
  const std::string whole =
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[)"
      R"({"type":"thinking","thinking":"Let me think.","signature":"c2lnLTE="},)"
      R"({"type":"redacted_thinking","data":"cmVkYWN0ZWQ="},)"
      R"({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],)"
      R"("stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":20}})";
  Response r;
  provider("anthropic").parse(whole, r);
  EXPECT_EQ(
      normalised(r),
      R"({"text":"","reasoning":"Let me think.","thinking":[)"
      R"({"text":"Let me think.","signature":"c2lnLTE="},{"redacted":"cmVkYWN0ZWQ="}],)"
      R"("finish_reason":"tool_calls","usage":{"input_tokens":10,"output_tokens":20,)"
      R"("cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0},)"
      R"("tool_calls":[{"id":"toolu_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}]})");
  expect_stream_matches_whole("anthropic", sse, whole);
}

TEST(ProvidersFixture, AnthropicSignatureForANonThinkingBlockIsAProviderError) {
  const std::string sse =
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"c2ln\"}}\n\n";
  try {
    stream(provider("anthropic"), sse, {sse.size()});
    ADD_FAILURE() << "a signature_delta for a text block passed";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_PROVIDER_ERROR) << e.what();
  }
}

TEST(ProvidersFixture, GeminiThoughtPiecesMakeOneBlockUntilASignature) {
  const auto chunk = [](const std::string& parts, const std::string& rest = {}) {
    return R"(data: {"candidates":[{"content":{"parts":[)" + parts + R"(],"role":"model"})" + rest +
           R"(,"index":0}]})" + "\r\n\r\n";
  };
  const std::string sse =
      chunk(R"({"text":"Thinking ","thought":true})") +
      chunk(R"({"text":"more.","thought":true,"thoughtSignature":"dGgtMQ=="})") +
      chunk(R"({"text":"Second thought.","thought":true})") + chunk(R"({"text":"The answer"})") +
      chunk(R"({"text":" is 42."})") +
      chunk(R"({"functionCall":{"name":"check","args":{"n":42}},"thoughtSignature":"Y2FsbA=="})") +
      chunk(R"({"text":"","thoughtSignature":"dGV4dA=="})", R"(,"finishReason":"STOP")");
  const std::string whole =
      R"({"candidates":[{"content":{"parts":[)"
      R"({"text":"Thinking more.","thought":true,"thoughtSignature":"dGgtMQ=="},)"
      R"({"text":"Second thought.","thought":true},{"text":"The answer is 42."},)"
      R"({"functionCall":{"name":"check","args":{"n":42}},"thoughtSignature":"Y2FsbA=="},)"
      R"({"text":"","thoughtSignature":"dGV4dA=="}],"role":"model"},"finishReason":"STOP",)"
      R"("index":0}]})";
  Response r;
  provider("gemini").parse(whole, r);
  EXPECT_EQ(normalised(r),
            R"({"text":"The answer is 42.","reasoning":"Thinking more.Second thought.",)"
            R"("thinking":[{"text":"Thinking more.","signature":"dGgtMQ=="},)"
            R"({"text":"Second thought.","signature":""},{"text":"","signature":"dGV4dA=="}],)"
            R"("finish_reason":"tool_calls","usage":{"input_tokens":0,"output_tokens":0,)"
            R"("cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0},)"
            R"("tool_calls":[{"id":"call_0","name":"check","arguments":"{\"n\":42}",)"
            R"("signature":"Y2FsbA=="}]})");
  expect_stream_matches_whole("gemini", sse, whole);
}

TEST(ProvidersFixture, NotAnAnswerIsAProviderError) {
  for (const char* p : {"openai", "anthropic", "gemini", "ollama"}) {
    for (const std::string body : {"", "{", "[]", "{\"foo\":1}", "not json"}) {
      Response r;
      try {
        provider(p).parse(body, r);
        ADD_FAILURE() << p << " accepted " << body;
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), LLMKIT_PROVIDER_ERROR) << p << " " << body;
      }
    }
  }
}

}  // namespace
}  // namespace llmkit::providers
