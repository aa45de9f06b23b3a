// Replaying a cached chat completion as a stream: the chunks a streaming
// caller would have seen, whose deltas add up to the original answer.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "core/utf8.h"
#include "llmkit.h"
#include "support/fixture.h"

namespace {

std::string fixture(const std::string& name) {
  return llmkit::test::fixture("openai/" + name);
}

std::vector<std::string> chunks_of(const std::string& completion, size_t piece_bytes) {
  llmkit_replay* replay = nullptr;
  EXPECT_EQ(llmkit_replay_new(completion.data(), completion.size(), piece_bytes, &replay),
            LLMKIT_OK)
      << llmkit_last_error();
  std::vector<std::string> out;
  const char* chunk = nullptr;
  size_t len = 0;
  while (llmkit_replay_next(replay, &chunk, &len) == LLMKIT_OK && chunk != nullptr) {
    out.emplace_back(chunk, len);
  }
  llmkit_replay_free(replay);
  return out;
}

TEST(CacheReplay, ContentDeltasAddUpToTheAnswer) {
  const std::string completion = fixture("chat_completion_text.json");
  simdjson::dom::parser p;
  const std::string content(
      std::string_view(p.parse(completion)["choices"].at(0)["message"]["content"]));
  for (const size_t piece : {1u, 3u, 7u, 64u, 4096u}) {
    const auto chunks = chunks_of(completion, piece);
    std::string joined;
    std::string finish;
    bool saw_usage = false;
    for (const auto& c : chunks) {
      simdjson::dom::parser cp;
      const auto doc = cp.parse(c);
      EXPECT_EQ(std::string_view(doc["object"]), "chat.completion.chunk");
      EXPECT_EQ(std::string_view(doc["id"]), "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
      EXPECT_EQ(std::string_view(doc["system_fingerprint"]), "fp_3d6b5f5f2a");
      const auto choices = doc["choices"].get_array();
      if (choices.size() == 0) {
        EXPECT_EQ(std::uint64_t(doc["usage"]["total_tokens"]), 29u);
        saw_usage = true;
        continue;
      }
      std::string_view text;
      if (!choices.at(0)["delta"]["content"].get(text)) {
        EXPECT_LE(text.size(), std::max<size_t>(piece, 4)) << "piece " << piece;
        EXPECT_FALSE(llmkit::utf8::first_invalid(text)) << "a piece splits a character";
        joined += text;
      }
      std::string_view reason;
      if (!choices.at(0)["finish_reason"].get(reason)) finish = reason;
    }
    EXPECT_EQ(joined, content) << "piece " << piece;
    EXPECT_EQ(finish, "stop");
    EXPECT_TRUE(saw_usage);
    EXPECT_NE(chunks.front().find(R"("delta":{"role":"assistant","content":""})"),
              std::string::npos);
  }
}

TEST(CacheReplay, ToolCallsStreamTheirArgumentsInPieces) {
  const auto chunks = chunks_of(fixture("chat_completion_tool_calls.json"), 5);
  std::string arguments;
  std::string name;
  std::string id;
  for (const auto& c : chunks) {
    simdjson::dom::parser cp;
    const auto doc = cp.parse(c);
    simdjson::dom::array calls;
    if (doc["choices"].at(0)["delta"]["tool_calls"].get(calls)) continue;
    const auto call = calls.at(0);
    EXPECT_EQ(std::uint64_t(call["index"]), 0u);
    std::string_view s;
    if (!call["id"].get(s)) id = s;
    if (!call["function"]["name"].get(s)) name = s;
    if (!call["function"]["arguments"].get(s)) arguments += s;
  }
  EXPECT_EQ(id, "call_abc123");
  EXPECT_EQ(name, "get_current_weather");
  EXPECT_EQ(arguments, "{\n\"location\": \"Boston, MA\"\n}");
  EXPECT_NE(chunks.front().find(R"("content":null)"), std::string::npos);
  EXPECT_NE(chunks[chunks.size() - 2].find(R"("finish_reason":"tool_calls")"), std::string::npos);
}

TEST(CacheReplay, RejectsWhatIsNotAChatCompletion) {
  llmkit_replay* replay = nullptr;
  for (const std::string& bad :
       {std::string("{"), std::string(R"({"object":"list","data":[]})"),
        std::string(R"({"object":"chat.completion"})"),
        std::string(R"({"object":"chat.completion","choices":[{"index":0}]})")}) {
    EXPECT_EQ(llmkit_replay_new(bad.data(), bad.size(), 0, &replay), LLMKIT_INVALID_ARGUMENT)
        << bad;
    EXPECT_EQ(replay, nullptr);
  }
  EXPECT_EQ(llmkit_replay_new(nullptr, 3, 0, &replay), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_replay_next(nullptr, nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
}

}  // namespace
