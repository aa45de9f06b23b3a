// Chat-request counting follows OpenAI's published recipe (OpenAI Cookbook,
// "How to count tokens with tiktoken"): 3 tokens per message, 1 per name,
// 3 for the reply priming, and the tool-definition overheads. The expected
// values are built from the same recipe over independently counted parts.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "core/error.h"
#include "status_of.h"
#include "tokenize/catalog.h"
#include "tokenize/count.h"

namespace tk = llmkit::tokenize;

namespace {

std::size_t n(const char* enc, const std::string& s) {
  return tk::encoding(enc).count(s, tk::SpecialMode::kAsText);
}

}  // namespace

TEST(ChatCount, MessagesNamesAndPartsFollowTheRecipe) {
  const std::string messages = R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "name": "example_user", "content": "New synergies will help drive growth."},
    {"role": "user", "content": [{"type": "text", "text": "Part one."}, {"type": "text", "text": "Two"}]},
    {"role": "assistant", "content": null,
     "tool_calls": [{"id": "c1", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}
  ])";
  const char* e = "o200k_base";
  const std::size_t expected =
      3 + (3 + n(e, "system") + n(e, "You are terse.")) +
      (3 + n(e, "user") + n(e, "example_user") + 1 +
       n(e, "New synergies will help drive growth.")) +
      (3 + n(e, "user") + n(e, "Part one.") + n(e, "Two")) +
      (3 + n(e, "assistant") + n(e, "get_weather") + n(e, "{\"city\":\"Paris\"}"));
  EXPECT_EQ(tk::count_chat("gpt-4o", messages, ""), expected);
}

TEST(ChatCount, ToolsAddTheCookbookOverheads) {
  const std::string messages = R"([{"role": "user", "content": "hi"}])";
  const std::string tools = R"([{"type": "function", "function": {
      "name": "get_weather", "description": "Get the weather.",
      "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name."},
        "unit": {"type": "string", "description": "Unit", "enum": ["c", "f"]}}}}}])";
  for (const auto& [model, enc, func_init] :
       {std::tuple{"gpt-4o", "o200k_base", 7}, std::tuple{"gpt-4", "cl100k_base", 10}}) {
    const std::size_t base = tk::count_chat(model, messages, "");
    const std::size_t with = tk::count_chat(model, messages, tools);
    const std::size_t tool_tokens =
        func_init + n(enc, "get_weather:Get the weather") + 3 +
        (3 + n(enc, "city:string:City name")) +
        (3 - 3 + (3 + n(enc, "c")) + (3 + n(enc, "f")) + n(enc, "unit:string:Unit")) + 12;
    EXPECT_EQ(with - base, tool_tokens) << model;
  }
}

TEST(ChatCount, Gpt35Turbo0301UsesItsOwnConstants) {
  const std::string messages = R"([{"role": "user", "name": "bob", "content": "hi"}])";
  const char* e = "cl100k_base";
  EXPECT_EQ(tk::count_chat("gpt-3.5-turbo-0301", messages, ""),
            3 + 4 + n(e, "user") + n(e, "bob") - 1 + n(e, "hi"));
}

TEST(ChatCount, BadInputIsAClearError) {
  EXPECT_EQ(status_of([] { tk::count_chat("gpt-4o", "[{\"role\": ", ""); }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] { tk::count_chat("gpt-4o", "{\"role\": \"user\"}", ""); }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] { tk::count_chat("gpt-4o", "[1]", ""); }), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] {
              tk::count_chat(
                  "gpt-4o",
                  R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}])",
                  "");
            }),
            LLMKIT_UNSUPPORTED);
  EXPECT_EQ(status_of([] { tk::count_chat("claude-3-opus", "[]", ""); }), LLMKIT_NOT_FOUND);
  EXPECT_EQ(status_of([] { tk::count_chat("gpt-4o", "[]", "[{\"type\":\"function\"}]"); }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(tk::count_chat("gpt-4o", "[]", ""), 3u);  // just the reply priming
}
