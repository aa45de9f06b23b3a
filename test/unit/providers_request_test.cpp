// Building provider requests: one normalised chat request, exercising every
// feature, becomes each provider's wire body, checked field by field
// against the provider's real API (OpenAI Chat Completions, Anthropic
// Messages, Gemini generateContent, Ollama /api/chat); the pass-through
// "extra" object; embeddings requests and answers; and the validation of
// request parameters, messages and image URLs.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <strings.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "providers/provider.h"
#include "providers/request.h"
#include "status_of.h"
#include "support/fixture.h"

namespace {

namespace lp = llmkit::providers;
using llmkit::make_string;
using simdjson::dom::element;

constexpr std::string_view kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg"
    "==";
constexpr std::string_view kImageUrl = "https://example.com/images/cat.jpg";
constexpr std::string_view kWeatherSchema =
    R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})";
constexpr std::string_view kAnswerSchema =
    R"({"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]})";

std::string data_url() {
  return "data:image/png;base64," + std::string(kPng);
}

std::string str(const llmkit::String& s) {
  return std::string(s.data(), s.size());
}

lp::Endpoint endpoint(std::string_view base, std::string_view key = "sk-test-123") {
  lp::Endpoint e;
  e.base_url = make_string(base);
  e.api_key = make_string(key);
  e.version = make_string("2023-06-01");
  return e;
}

// A tool result message, as llmkit_request_add_tool_result makes it.
lp::Message tool_result(std::string_view call_id, std::string_view content) {
  lp::Message m;
  m.role = lp::Role::kTool;
  m.tool_call_id = make_string(call_id);
  m.parts.push_back(lp::Part{make_string(content), std::nullopt});
  return m;
}

lp::ToolCall weather_call() {
  return lp::ToolCall{
      make_string("call_1"), make_string("get_weather"), make_string(R"({"city":"Paris"})"), {}};
}

// A conversation with everything: a system prompt, a user message with text
// and images, an assistant tool call, its result, a last user message, a
// tool, and every sampling parameter.
lp::ChatRequest conversation(bool https_image) {
  lp::ChatRequest r;
  lp::set_param(r, "model", "model-1");
  lp::set_param(r, "system", "Be brief.");
  lp::add_message(r, "user", "What is in these images?");
  r.messages.back().parts.push_back(lp::Part{{}, lp::image_from_url(data_url())});
  if (https_image) r.messages.back().parts.push_back(lp::Part{{}, lp::image_from_url(kImageUrl)});
  lp::add_message(r, "assistant", "");
  r.messages.back().tool_calls.push_back(weather_call());
  r.messages.push_back(tool_result("call_1", "Sunny, 21 C"));
  lp::add_message(r, "user", "Thanks. Summarise.");
  r.tools.push_back(lp::Tool{make_string("get_weather"), make_string("Current weather in a city"),
                             make_string(kWeatherSchema)});
  lp::set_param(r, "tool_choice", "auto");
  lp::set_param(r, "temperature", "0.7");
  lp::set_param(r, "top_p", "0.9");
  lp::set_param(r, "max_tokens", "256");
  lp::set_param(r, "seed", "42");
  r.stop.push_back(make_string("END"));
  r.stop.push_back(make_string("STOP"));
  return r;
}

// A request's body, parsed.
class Body {
 public:
  explicit Body(const llmkit::String& text) : text_(str(text)) {
    const auto err = parser_.parse(text_).get(doc_);
    EXPECT_FALSE(err) << "the body is not JSON: " << text_;
  }
  element operator*() const { return doc_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  simdjson::dom::parser parser_;
  element doc_;
};

// Readers that fail the test (by simdjson's exception) on a missing or
// mistyped member; they take an element or a lookup's result.
using Lookup = simdjson::simdjson_result<element>;
element v(element e) {
  return e;
}
element v(Lookup e) {
  return e.value();
}
template <class J>
std::string s(J e) {
  return std::string(std::string_view(v(e)));
}
template <class J>
double d(J e) {
  return double(v(e));
}
template <class J>
std::int64_t i(J e) {
  return std::int64_t(v(e));
}
template <class J>
bool b(J e) {
  return bool(v(e));
}
template <class J>
std::size_t size(J e) {
  return simdjson::dom::array(v(e)).size();
}
template <class J>
bool has(J e, std::string_view key) {
  element out;
  return !v(e)[key].get(out);
}
// Compact JSON text, for comparing whole values.
template <class J>
std::string json(J e) {
  return simdjson::to_string(v(e));
}
// As json(), with every object's members in key order: for comparing with
// a recording whose keys were sorted.
std::string sorted(element e) {
  if (e.is_array()) {
    std::string out = "[";
    for (const element item : simdjson::dom::array(e))
      out += (out.size() > 1 ? "," : "") + sorted(item);
    return out + "]";
  }
  if (!e.is_object()) return simdjson::to_string(e);
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto field : simdjson::dom::object(e)) {
    members.emplace_back(std::string(field.key), sorted(field.value));
  }
  std::sort(members.begin(), members.end());
  std::string out = "{";
  for (const auto& [key, value] : members) {
    out += (out.size() > 1 ? ",\"" : "\"") + key + "\":" + value;
  }
  return out + "}";
}
std::string canon(std::string_view text) {
  simdjson::dom::parser parser;
  return simdjson::to_string(parser.parse(std::string(text)).value());
}

// A header's value (names compare without case), or none.
std::optional<std::string> header(const llmkit::http::Request& r, std::string_view name) {
  for (const auto& h : r.headers) {
    const std::string_view line(h.data(), h.size());
    const std::size_t colon = line.find(':');
    if (colon != name.size() || strncasecmp(line.data(), name.data(), name.size()) != 0) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return std::string(value);
  }
  return std::nullopt;
}

llmkit::http::Request chat(std::string_view provider, const lp::ChatRequest& r, bool stream,
                           const lp::Endpoint& e) {
  return lp::provider(provider).chat_request(e, r, r.model, stream);
}

// ---- OpenAI Chat Completions ------------------------------------------------

TEST(ProvidersRequest, OpenAiChatWireShape) {
  lp::ChatRequest r = conversation(true);
  lp::set_param(r, "response_format", "json");
  const auto req = chat("openai", r, false, endpoint("https://api.openai.com/v1"));
  EXPECT_EQ(str(req.method), "POST");
  EXPECT_EQ(str(req.url), "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(header(req, "Authorization"), "Bearer sk-test-123");
  EXPECT_EQ(header(req, "Content-Type"), "application/json");

  const Body body(req.body);
  const element doc = *body;
  EXPECT_EQ(s(doc["model"]), "model-1");
  const auto messages = doc["messages"];
  ASSERT_EQ(size(messages), 5u) << body.text();

  EXPECT_EQ(s(messages.at(0)["role"]), "system");
  EXPECT_EQ(s(messages.at(0)["content"]), "Be brief.");

  const auto user = messages.at(1);
  EXPECT_EQ(s(user["role"]), "user");
  ASSERT_EQ(size(user["content"]), 3u);
  EXPECT_EQ(s(user["content"].at(0)["type"]), "text");
  EXPECT_EQ(s(user["content"].at(0)["text"]), "What is in these images?");
  EXPECT_EQ(s(user["content"].at(1)["type"]), "image_url");
  EXPECT_EQ(s(user["content"].at(1)["image_url"]["url"]), data_url());
  EXPECT_EQ(s(user["content"].at(2)["type"]), "image_url");
  EXPECT_EQ(s(user["content"].at(2)["image_url"]["url"]), kImageUrl);

  const auto assistant = messages.at(2);
  EXPECT_EQ(s(assistant["role"]), "assistant");
  EXPECT_TRUE(assistant["content"].value().is_null());
  ASSERT_EQ(size(assistant["tool_calls"]), 1u);
  const auto call = assistant["tool_calls"].at(0);
  EXPECT_EQ(s(call["id"]), "call_1");
  EXPECT_EQ(s(call["type"]), "function");
  EXPECT_EQ(s(call["function"]["name"]), "get_weather");
  // The arguments travel as a JSON string, not an object.
  EXPECT_EQ(s(call["function"]["arguments"]), R"({"city":"Paris"})");

  const auto tool = messages.at(3);
  EXPECT_EQ(s(tool["role"]), "tool");
  EXPECT_EQ(s(tool["tool_call_id"]), "call_1");
  EXPECT_EQ(s(tool["content"]), "Sunny, 21 C");

  // Text alone is sent as a plain string.
  EXPECT_EQ(s(messages.at(4)["role"]), "user");
  EXPECT_EQ(s(messages.at(4)["content"]), "Thanks. Summarise.");

  ASSERT_EQ(size(doc["tools"]), 1u);
  const auto fn = doc["tools"].at(0);
  EXPECT_EQ(s(fn["type"]), "function");
  EXPECT_EQ(s(fn["function"]["name"]), "get_weather");
  EXPECT_EQ(s(fn["function"]["description"]), "Current weather in a city");
  EXPECT_EQ(json(fn["function"]["parameters"]), canon(kWeatherSchema));
  EXPECT_EQ(s(doc["tool_choice"]), "auto");

  EXPECT_DOUBLE_EQ(d(doc["temperature"]), 0.7);
  EXPECT_DOUBLE_EQ(d(doc["top_p"]), 0.9);
  EXPECT_EQ(i(doc["max_completion_tokens"]), 256);
  EXPECT_FALSE(has(doc, "max_tokens"));
  EXPECT_EQ(i(doc["seed"]), 42);
  EXPECT_EQ(json(doc["stop"]), R"(["END","STOP"])");
  EXPECT_EQ(json(doc["response_format"]), R"({"type":"json_object"})");
  EXPECT_FALSE(has(doc, "stream"));
  EXPECT_FALSE(has(doc, "stream_options"));
}

TEST(ProvidersRequest, OpenAiStreamAsksForUsage) {
  for (const char* p : {"openai", "openai-compatible"}) {
    const auto req = chat(p, conversation(false), true, endpoint("https://api.openai.com/v1"));
    const Body body(req.body);
    EXPECT_TRUE(b((*body)["stream"])) << p;
    EXPECT_TRUE(b((*body)["stream_options"]["include_usage"])) << p;
    EXPECT_EQ(str(req.url), "https://api.openai.com/v1/chat/completions");
  }
}

TEST(ProvidersRequest, OpenAiCompatibleSendsMaxTokens) {
  const auto req =
      chat("openai-compatible", conversation(true), false, endpoint("http://localhost:8000/v1"));
  EXPECT_EQ(str(req.url), "http://localhost:8000/v1/chat/completions");
  EXPECT_EQ(header(req, "Authorization"), "Bearer sk-test-123");
  const Body body(req.body);
  EXPECT_EQ(i((*body)["max_tokens"]), 256);
  EXPECT_FALSE(has(*body, "max_completion_tokens"));
  // Otherwise the same body as OpenAI's.
  EXPECT_EQ(size((*body)["messages"]), 5u);
  EXPECT_EQ(s((*body)["messages"].at(2)["tool_calls"].at(0)["function"]["arguments"]),
            R"({"city":"Paris"})");
}

TEST(ProvidersRequest, OpenAiToolChoiceForms) {
  const auto choice = [](const char* provider, const char* tool_choice) {
    lp::ChatRequest r = conversation(false);
    lp::set_param(r, "tool_choice", tool_choice);
    const Body body(chat(provider, r, false, endpoint("https://api.openai.com/v1")).body);
    return has(*body, "tool_choice") ? json((*body)["tool_choice"]) : std::string("absent");
  };
  for (const char* p : {"openai", "openai-compatible"}) {
    EXPECT_EQ(choice(p, "auto"), R"("auto")");
    EXPECT_EQ(choice(p, "none"), R"("none")");
    EXPECT_EQ(choice(p, "required"), R"("required")");
    EXPECT_EQ(choice(p, "get_weather"), R"({"type":"function","function":{"name":"get_weather"}})");
    EXPECT_EQ(choice(p, ""), "absent");
  }
  // No tools: no tool_choice either.
  lp::ChatRequest r = conversation(false);
  r.tools.clear();
  const Body body(chat("openai", r, false, endpoint("https://api.openai.com/v1")).body);
  EXPECT_FALSE(has(*body, "tools"));
  EXPECT_FALSE(has(*body, "tool_choice"));
}

TEST(ProvidersRequest, OpenAiResponseFormats) {
  lp::ChatRequest r = conversation(false);
  lp::set_param(r, "response_format", std::string(kAnswerSchema).c_str());
  const Body schema(chat("openai", r, false, endpoint("https://api.openai.com/v1")).body);
  EXPECT_EQ(s((*schema)["response_format"]["type"]), "json_schema");
  EXPECT_FALSE(s((*schema)["response_format"]["json_schema"]["name"]).empty());
  EXPECT_EQ(json((*schema)["response_format"]["json_schema"]["schema"]), canon(kAnswerSchema));

  lp::set_param(r, "response_format", "text");
  const Body text(chat("openai", r, false, endpoint("https://api.openai.com/v1")).body);
  EXPECT_FALSE(has(*text, "response_format"));
}

TEST(ProvidersRequest, OpenAiRejectsThinkingBudget) {
  lp::ChatRequest r = conversation(false);
  lp::set_param(r, "thinking_budget", "1024");
  for (const char* p : {"openai", "openai-compatible"}) {
    EXPECT_EQ(status_of([&] { chat(p, r, false, endpoint("https://api.openai.com/v1")); }),
              LLMKIT_UNSUPPORTED)
        << p;
  }
}

TEST(ProvidersRequest, OpenAiExtraMergesMemberByMember) {
  lp::ChatRequest r = conversation(false);
  lp::set_param(r, "response_format", std::string(kAnswerSchema).c_str());
  lp::set_param(r, "extra",
                R"({"temperature":0.1,"response_format":{"type":"text"},"logprobs":true})");
  const Body body(chat("openai", r, false, endpoint("https://api.openai.com/v1")).body);
  const element doc = *body;
  EXPECT_DOUBLE_EQ(d(doc["temperature"]), 0.1);  // a scalar replaces
  // A nested object merges: its type replaced, the schema kept.
  EXPECT_EQ(s(doc["response_format"]["type"]), "text");
  EXPECT_EQ(json(doc["response_format"]["json_schema"]["schema"]), canon(kAnswerSchema));
  EXPECT_TRUE(b(doc["logprobs"]));  // a new key is added
  // The rest is untouched, and no key appears twice.
  EXPECT_DOUBLE_EQ(d(doc["top_p"]), 0.9);
  EXPECT_EQ(size(doc["messages"]), 5u);
  EXPECT_EQ(body.text().find("\"temperature\""), body.text().rfind("\"temperature\""));
}

TEST(ProvidersRequest, ExtraReplacesAnythingButAnObject) {
  lp::ChatRequest r = conversation(false);
  // An object over an array, an array over an array, a value over an object.
  lp::set_param(r, "extra", R"({"stop":{"a":1},"messages":[],"tools":null})");
  const Body body(chat("openai", r, false, endpoint("https://api.openai.com/v1")).body);
  EXPECT_EQ(json((*body)["stop"]), R"({"a":1})");
  EXPECT_EQ(size((*body)["messages"]), 0u);
  EXPECT_TRUE((*body)["tools"].value().is_null());
}

TEST(ProvidersRequest, ExtraMergesForEveryProvider) {
  lp::ChatRequest r = conversation(false);
  r.messages.erase(r.messages.begin() + 1, r.messages.begin() + 3);  // no tool call
  lp::set_param(r, "extra", R"({"generationConfig":{"candidateCount":1,"temperature":0.2}})");
  const Body gemini(chat("gemini", r, false, endpoint("https://g.example/v1beta")).body);
  EXPECT_EQ(i((*gemini)["generationConfig"]["candidateCount"]), 1);
  EXPECT_DOUBLE_EQ(d((*gemini)["generationConfig"]["temperature"]), 0.2);
  EXPECT_EQ(i((*gemini)["generationConfig"]["maxOutputTokens"]), 256);

  lp::set_param(r, "extra", R"({"metadata":{"user_id":"u-1"},"max_tokens":10})");
  const Body anthropic(chat("anthropic", r, false, endpoint("https://a.example")).body);
  EXPECT_EQ(s((*anthropic)["metadata"]["user_id"]), "u-1");
  EXPECT_EQ(i((*anthropic)["max_tokens"]), 10);

  lp::set_param(r, "extra", R"({"options":{"num_ctx":8192},"keep_alive":"5m"})");
  const Body ollama(chat("ollama", r, false, endpoint("http://localhost:11434")).body);
  EXPECT_EQ(i((*ollama)["options"]["num_ctx"]), 8192);
  EXPECT_EQ(i((*ollama)["options"]["num_predict"]), 256);
  EXPECT_EQ(s((*ollama)["keep_alive"]), "5m");
}

TEST(ProvidersRequest, ExtraMustBeAJsonObject) {
  lp::ChatRequest r = conversation(false);
  for (const char* bad : {"[1]", "1", "\"x\"", "{", "null"}) {
    EXPECT_EQ(status_of([&] { lp::set_param(r, "extra", bad); }), LLMKIT_INVALID_ARGUMENT) << bad;
  }
  // Set behind set_param's back, the request builder still refuses it.
  for (const char* p : {"openai", "anthropic", "gemini", "ollama"}) {
    r.extra = make_string("[1]");
    EXPECT_EQ(status_of([&] { chat(p, r, false, endpoint("http://x")); }), LLMKIT_INVALID_ARGUMENT)
        << p;
    r.extra = make_string("{");
    EXPECT_EQ(status_of([&] { chat(p, r, false, endpoint("http://x")); }), LLMKIT_INVALID_ARGUMENT)
        << p;
  }
}

TEST(ProvidersRequest, EmptyApiKeySendsNoAuthHeader) {
  lp::ChatRequest r = conversation(false);
  for (const char* p : {"openai", "openai-compatible", "anthropic", "gemini", "ollama"}) {
    const auto req = chat(p, r, false, endpoint("http://localhost:1234", ""));
    EXPECT_FALSE(header(req, "Authorization")) << p;
    EXPECT_FALSE(header(req, "x-api-key")) << p;
    EXPECT_FALSE(header(req, "x-goog-api-key")) << p;
    EXPECT_EQ(header(req, "Content-Type"), "application/json") << p;
    EXPECT_EQ(str(req.url).find("key="), std::string::npos) << p;
  }
  // Anthropic still names its API version.
  EXPECT_EQ(header(chat("anthropic", r, false, endpoint("http://a", "")), "anthropic-version"),
            "2023-06-01");
}

// ---- Anthropic Messages -----------------------------------------------------

TEST(ProvidersRequest, AnthropicChatWireShape) {
  lp::ChatRequest r = conversation(true);
  lp::set_param(r, "tool_choice", "required");
  lp::set_param(r, "thinking_budget", "1024");
  const auto req = chat("anthropic", r, false, endpoint("https://api.anthropic.com"));
  EXPECT_EQ(str(req.url), "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(header(req, "x-api-key"), "sk-test-123");
  EXPECT_EQ(header(req, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(header(req, "Content-Type"), "application/json");
  EXPECT_FALSE(header(req, "Authorization"));

  const Body body(req.body);
  const element doc = *body;
  EXPECT_EQ(s(doc["model"]), "model-1");
  EXPECT_EQ(i(doc["max_tokens"]), 256);
  ASSERT_EQ(size(doc["system"]), 1u);
  EXPECT_EQ(s(doc["system"].at(0)["type"]), "text");
  EXPECT_EQ(s(doc["system"].at(0)["text"]), "Be brief.");
  EXPECT_FALSE(has(doc["system"].at(0), "cache_control"));

  const auto messages = doc["messages"];
  ASSERT_EQ(size(messages), 4u) << body.text();
  // No system message among them: the system prompt is top level.
  const auto user = messages.at(0);
  EXPECT_EQ(s(user["role"]), "user");
  ASSERT_EQ(size(user["content"]), 3u);
  EXPECT_EQ(s(user["content"].at(0)["type"]), "text");
  EXPECT_EQ(s(user["content"].at(0)["text"]), "What is in these images?");
  const auto inline_image = user["content"].at(1);
  EXPECT_EQ(s(inline_image["type"]), "image");
  EXPECT_EQ(s(inline_image["source"]["type"]), "base64");
  EXPECT_EQ(s(inline_image["source"]["media_type"]), "image/png");
  EXPECT_EQ(s(inline_image["source"]["data"]), kPng);
  const auto url_image = user["content"].at(2);
  EXPECT_EQ(s(url_image["type"]), "image");
  EXPECT_EQ(s(url_image["source"]["type"]), "url");
  EXPECT_EQ(s(url_image["source"]["url"]), kImageUrl);

  const auto assistant = messages.at(1);
  EXPECT_EQ(s(assistant["role"]), "assistant");
  ASSERT_EQ(size(assistant["content"]), 1u);
  const auto use = assistant["content"].at(0);
  EXPECT_EQ(s(use["type"]), "tool_use");
  EXPECT_EQ(s(use["id"]), "call_1");
  EXPECT_EQ(s(use["name"]), "get_weather");
  // The input is an object, not a string.
  EXPECT_EQ(json(use["input"]), R"({"city":"Paris"})");

  // The tool's result goes back in a user message.
  const auto result = messages.at(2);
  EXPECT_EQ(s(result["role"]), "user");
  ASSERT_EQ(size(result["content"]), 1u);
  EXPECT_EQ(s(result["content"].at(0)["type"]), "tool_result");
  EXPECT_EQ(s(result["content"].at(0)["tool_use_id"]), "call_1");
  EXPECT_EQ(s(result["content"].at(0)["content"]), "Sunny, 21 C");

  EXPECT_EQ(s(messages.at(3)["role"]), "user");
  EXPECT_EQ(s(messages.at(3)["content"].at(0)["text"]), "Thanks. Summarise.");

  ASSERT_EQ(size(doc["tools"]), 1u);
  EXPECT_EQ(s(doc["tools"].at(0)["name"]), "get_weather");
  EXPECT_EQ(s(doc["tools"].at(0)["description"]), "Current weather in a city");
  EXPECT_EQ(json(doc["tools"].at(0)["input_schema"]), canon(kWeatherSchema));
  EXPECT_EQ(json(doc["tool_choice"]), R"({"type":"any"})");

  EXPECT_DOUBLE_EQ(d(doc["temperature"]), 0.7);
  EXPECT_DOUBLE_EQ(d(doc["top_p"]), 0.9);
  EXPECT_EQ(json(doc["stop_sequences"]), R"(["END","STOP"])");
  EXPECT_EQ(s(doc["thinking"]["type"]), "enabled");
  EXPECT_EQ(i(doc["thinking"]["budget_tokens"]), 1024);
  EXPECT_FALSE(has(doc, "stop"));
  EXPECT_FALSE(has(doc, "seed"));  // Anthropic has none
  EXPECT_FALSE(has(doc, "stream"));
  EXPECT_FALSE(has(doc, "max_completion_tokens"));
}

// A block's cache_control, or "none".
template <class J>
std::string cache_mark(J block) {
  return has(block, "cache_control") ? json(v(block)["cache_control"]) : std::string("none");
}

TEST(ProvidersRequest, AnthropicMarksCacheBreakpoints) {
  constexpr std::string_view kEphemeral = R"({"type":"ephemeral"})";
  lp::ChatRequest r = conversation(false);
  r.system_cache_breakpoint = true;
  for (auto& m : r.messages) m.cache_breakpoint = true;
  r.messages.back().cache_breakpoint = false;
  const Body body(chat("anthropic", r, false, endpoint("https://api.anthropic.com")).body);
  SCOPED_TRACE(body.text());
  const element doc = *body;
  EXPECT_EQ(cache_mark(doc["system"].at(0)), kEphemeral);
  const auto messages = doc["messages"];
  // Text then image: only the last block is marked.
  ASSERT_EQ(size(messages.at(0)["content"]), 2u);
  EXPECT_EQ(cache_mark(messages.at(0)["content"].at(0)), "none");
  EXPECT_EQ(cache_mark(messages.at(0)["content"].at(1)), kEphemeral);
  // A tool call.
  EXPECT_EQ(s(messages.at(1)["content"].at(0)["type"]), "tool_use");
  EXPECT_EQ(cache_mark(messages.at(1)["content"].at(0)), kEphemeral);
  // A tool result.
  EXPECT_EQ(s(messages.at(2)["content"].at(0)["type"]), "tool_result");
  EXPECT_EQ(cache_mark(messages.at(2)["content"].at(0)), kEphemeral);
  // An unmarked message.
  EXPECT_EQ(cache_mark(messages.at(3)["content"].at(0)), "none");

  // An assistant message with text and a tool call: the call is last.
  lp::ChatRequest r2;
  lp::set_param(r2, "model", "m");
  lp::add_message(r2, "assistant", "Let me check.");
  r2.messages.back().tool_calls.push_back(weather_call());
  r2.messages.back().cache_breakpoint = true;
  const Body body2(chat("anthropic", r2, false, endpoint("https://api.anthropic.com")).body);
  SCOPED_TRACE(body2.text());
  const auto content = (*body2)["messages"].at(0)["content"];
  ASSERT_EQ(size(content), 2u);
  EXPECT_EQ(s(content.at(0)["type"]), "text");
  EXPECT_EQ(cache_mark(content.at(0)), "none");
  EXPECT_EQ(s(content.at(1)["type"]), "tool_use");
  EXPECT_EQ(cache_mark(content.at(1)), kEphemeral);
  // No system prompt: no "system" at all.
  EXPECT_FALSE(has(*body2, "system"));
}

TEST(ProvidersRequest, AnthropicDefaultsMaxTokensAndStreams) {
  lp::ChatRequest r = conversation(false);
  lp::set_param(r, "max_tokens", nullptr);
  const auto req = chat("anthropic", r, true, endpoint("https://api.anthropic.com"));
  const Body body(req.body);
  EXPECT_EQ(i((*body)["max_tokens"]), 4096);
  EXPECT_TRUE(b((*body)["stream"]));
  EXPECT_FALSE(has(*body, "stream_options"));
  EXPECT_FALSE(has(*body, "thinking"));
  EXPECT_EQ(str(req.url), "https://api.anthropic.com/v1/messages");
}

TEST(ProvidersRequest, AnthropicToolChoiceForms) {
  const auto choice = [](const char* tool_choice) {
    lp::ChatRequest r = conversation(false);
    lp::set_param(r, "tool_choice", tool_choice);
    const Body body(chat("anthropic", r, false, endpoint("https://api.anthropic.com")).body);
    return has(*body, "tool_choice") ? json((*body)["tool_choice"]) : std::string("absent");
  };
  EXPECT_EQ(choice("auto"), R"({"type":"auto"})");
  EXPECT_EQ(choice("none"), R"({"type":"none"})");
  EXPECT_EQ(choice("required"), R"({"type":"any"})");
  EXPECT_EQ(choice("get_weather"), R"({"type":"tool","name":"get_weather"})");
  EXPECT_EQ(choice(""), "absent");
}

TEST(ProvidersRequest, AnthropicFillsEmptySchemaAndArguments) {
  lp::ChatRequest r;
  lp::set_param(r, "model", "m");
  lp::add_message(r, "assistant", "");
  r.messages.back().tool_calls.push_back(
      lp::ToolCall{make_string("c"), make_string("now"), make_string(""), {}});
  r.tools.push_back(lp::Tool{make_string("now"), {}, {}});
  const Body body(chat("anthropic", r, false, endpoint("https://api.anthropic.com")).body);
  EXPECT_EQ(json((*body)["messages"].at(0)["content"].at(0)["input"]), "{}");
  EXPECT_EQ(json((*body)["tools"].at(0)["input_schema"]), R"({"type":"object"})");
  EXPECT_FALSE(has((*body)["tools"].at(0), "description"));
}

TEST(ProvidersRequest, AnthropicRejectsJsonResponseFormat) {
  lp::ChatRequest r = conversation(false);
  for (const std::string& format : {std::string("json"), std::string(kAnswerSchema)}) {
    lp::set_param(r, "response_format", format.c_str());
    EXPECT_EQ(status_of([&] { chat("anthropic", r, false, endpoint("https://a.example")); }),
              LLMKIT_UNSUPPORTED)
        << format;
  }
  lp::set_param(r, "response_format", "text");
  EXPECT_EQ(status_of([&] { chat("anthropic", r, false, endpoint("https://a.example")); }),
            LLMKIT_OK);
}

// ---- Gemini generateContent -------------------------------------------------

TEST(ProvidersRequest, GeminiChatWireShape) {
  lp::ChatRequest r = conversation(false);
  lp::set_param(r, "model", "models/gemini-2.5-flash");
  lp::set_param(r, "thinking_budget", "1024");
  lp::set_param(r, "response_format", std::string(kAnswerSchema).c_str());
  const auto req =
      chat("gemini", r, false, endpoint("https://generativelanguage.googleapis.com/v1beta"));
  EXPECT_EQ(str(req.url),
            "https://generativelanguage.googleapis.com/v1beta/models/"
            "gemini-2.5-flash:generateContent");
  EXPECT_EQ(header(req, "x-goog-api-key"), "sk-test-123");
  EXPECT_FALSE(header(req, "Authorization"));
  // The key travels in the header only, never in the URL (which gets logged).
  EXPECT_EQ(str(req.url).find("sk-test-123"), std::string::npos);
  EXPECT_EQ(str(req.url).find("key="), std::string::npos);

  const Body body(req.body);
  const element doc = *body;
  EXPECT_FALSE(has(doc, "model"));  // the model is in the URL
  EXPECT_FALSE(has(doc, "messages"));
  const auto contents = doc["contents"];
  ASSERT_EQ(size(contents), 4u) << body.text();

  EXPECT_EQ(s(contents.at(0)["role"]), "user");
  ASSERT_EQ(size(contents.at(0)["parts"]), 2u);
  EXPECT_EQ(s(contents.at(0)["parts"].at(0)["text"]), "What is in these images?");
  const auto inline_data = contents.at(0)["parts"].at(1)["inline_data"];
  EXPECT_EQ(s(inline_data["mime_type"]), "image/png");
  EXPECT_EQ(s(inline_data["data"]), kPng);

  EXPECT_EQ(s(contents.at(1)["role"]), "model");
  ASSERT_EQ(size(contents.at(1)["parts"]), 1u);
  const auto call = contents.at(1)["parts"].at(0)["functionCall"];
  EXPECT_EQ(s(call["name"]), "get_weather");
  EXPECT_EQ(json(call["args"]), R"({"city":"Paris"})");  // an object

  EXPECT_EQ(s(contents.at(2)["role"]), "user");
  ASSERT_EQ(size(contents.at(2)["parts"]), 1u);
  const auto response = contents.at(2)["parts"].at(0)["functionResponse"];
  EXPECT_EQ(s(response["name"]), "get_weather");  // looked up from the call's id
  EXPECT_EQ(json(response["response"]), R"({"content":"Sunny, 21 C"})");

  EXPECT_EQ(s(contents.at(3)["role"]), "user");
  EXPECT_EQ(s(contents.at(3)["parts"].at(0)["text"]), "Thanks. Summarise.");

  EXPECT_EQ(json(doc["systemInstruction"]), R"({"parts":[{"text":"Be brief."}]})");

  ASSERT_EQ(size(doc["tools"]), 1u);
  const auto declarations = doc["tools"].at(0)["functionDeclarations"];
  ASSERT_EQ(size(declarations), 1u);
  EXPECT_EQ(s(declarations.at(0)["name"]), "get_weather");
  EXPECT_EQ(s(declarations.at(0)["description"]), "Current weather in a city");
  EXPECT_EQ(json(declarations.at(0)["parametersJsonSchema"]), canon(kWeatherSchema));
  EXPECT_EQ(json(doc["toolConfig"]), R"({"functionCallingConfig":{"mode":"AUTO"}})");

  const auto config = doc["generationConfig"];
  EXPECT_DOUBLE_EQ(d(config["temperature"]), 0.7);
  EXPECT_DOUBLE_EQ(d(config["topP"]), 0.9);
  EXPECT_EQ(i(config["maxOutputTokens"]), 256);
  EXPECT_EQ(i(config["seed"]), 42);
  EXPECT_EQ(json(config["stopSequences"]), R"(["END","STOP"])");
  EXPECT_EQ(s(config["responseMimeType"]), "application/json");
  EXPECT_EQ(json(config["responseJsonSchema"]), canon(kAnswerSchema));
  EXPECT_EQ(i(config["thinkingConfig"]["thinkingBudget"]), 1024);
  EXPECT_TRUE(b(config["thinkingConfig"]["includeThoughts"]));
  for (const char* snake : {"temperature", "top_p", "max_tokens", "stop", "tool_choice"}) {
    EXPECT_FALSE(has(doc, snake)) << snake;
  }
}

TEST(ProvidersRequest, GeminiStreamUrl) {
  for (const char* model : {"gemini-2.5-flash", "models/gemini-2.5-flash"}) {
    lp::ChatRequest r = conversation(false);
    lp::set_param(r, "model", model);
    const auto req = chat("gemini", r, true, endpoint("https://g.example/v1beta"));
    EXPECT_EQ(str(req.url),
              "https://g.example/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    const Body body(req.body);
    EXPECT_FALSE(has(*body, "stream"));
  }
}

TEST(ProvidersRequest, GeminiToolResultResponseObject) {
  const auto response = [](std::string_view result) {
    lp::ChatRequest r = conversation(false);
    r.messages[2] = tool_result("call_1", result);
    const Body body(chat("gemini", r, false, endpoint("https://g.example/v1beta")).body);
    return json((*body)["contents"].at(2)["parts"].at(0)["functionResponse"]["response"]);
  };
  // A JSON object goes as it is; any other text is wrapped.
  EXPECT_EQ(response(R"({"temp": 21, "unit": "C"})"), R"({"temp":21,"unit":"C"})");
  EXPECT_EQ(response("[1,2]"), R"({"content":"[1,2]"})");
  EXPECT_EQ(response("42"), R"({"content":"42"})");
  EXPECT_EQ(response("{not json"), R"({"content":"{not json"})");
  EXPECT_EQ(response(""), R"({"content":""})");
}

TEST(ProvidersRequest, GeminiUnknownToolCallIdIsInvalid) {
  lp::ChatRequest r = conversation(false);
  r.messages[2] = tool_result("call_999", "Sunny");
  EXPECT_EQ(status_of([&] { chat("gemini", r, false, endpoint("https://g.example/v1beta")); }),
            LLMKIT_INVALID_ARGUMENT);
}

TEST(ProvidersRequest, GeminiRejectsImageUrl) {
  const lp::ChatRequest r = conversation(true);
  EXPECT_EQ(status_of([&] { chat("gemini", r, false, endpoint("https://g.example/v1beta")); }),
            LLMKIT_UNSUPPORTED);
}

TEST(ProvidersRequest, GeminiToolChoiceForms) {
  const auto choice = [](const char* tool_choice) {
    lp::ChatRequest r = conversation(false);
    lp::set_param(r, "tool_choice", tool_choice);
    const Body body(chat("gemini", r, false, endpoint("https://g.example/v1beta")).body);
    return has(*body, "toolConfig") ? json((*body)["toolConfig"]["functionCallingConfig"])
                                    : std::string("absent");
  };
  EXPECT_EQ(choice("auto"), R"({"mode":"AUTO"})");
  EXPECT_EQ(choice("none"), R"({"mode":"NONE"})");
  EXPECT_EQ(choice("required"), R"({"mode":"ANY"})");
  EXPECT_EQ(choice("get_weather"), R"({"mode":"ANY","allowedFunctionNames":["get_weather"]})");
  EXPECT_EQ(choice(""), "absent");
}

TEST(ProvidersRequest, GeminiGenerationConfigOnlyWhenSet) {
  lp::ChatRequest r;
  lp::set_param(r, "model", "gemini-2.5-flash");
  lp::add_message(r, "user", "Hi");
  const Body bare(chat("gemini", r, false, endpoint("https://g.example/v1beta")).body);
  EXPECT_EQ(bare.text(), R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})");

  lp::set_param(r, "response_format", "json");
  const Body json_only(chat("gemini", r, false, endpoint("https://g.example/v1beta")).body);
  EXPECT_EQ(json((*json_only)["generationConfig"]), R"({"responseMimeType":"application/json"})");
}

// ---- Ollama /api/chat -------------------------------------------------------

TEST(ProvidersRequest, OllamaChatWireShape) {
  lp::ChatRequest r = conversation(false);
  lp::set_param(r, "thinking_budget", "1024");
  lp::set_param(r, "response_format", "json");
  const auto req = chat("ollama", r, false, endpoint("http://localhost:11434"));
  EXPECT_EQ(str(req.url), "http://localhost:11434/api/chat");
  EXPECT_EQ(header(req, "Authorization"), "Bearer sk-test-123");

  const Body body(req.body);
  const element doc = *body;
  EXPECT_EQ(s(doc["model"]), "model-1");
  const auto messages = doc["messages"];
  ASSERT_EQ(size(messages), 5u) << body.text();
  EXPECT_EQ(s(messages.at(0)["role"]), "system");
  EXPECT_EQ(s(messages.at(0)["content"]), "Be brief.");

  EXPECT_EQ(s(messages.at(1)["role"]), "user");
  EXPECT_EQ(s(messages.at(1)["content"]), "What is in these images?");
  ASSERT_EQ(size(messages.at(1)["images"]), 1u);
  EXPECT_EQ(s(messages.at(1)["images"].at(0)), kPng);  // base64 alone, no data: prefix

  EXPECT_EQ(s(messages.at(2)["role"]), "assistant");
  EXPECT_EQ(s(messages.at(2)["content"]), "");
  ASSERT_EQ(size(messages.at(2)["tool_calls"]), 1u);
  const auto fn = messages.at(2)["tool_calls"].at(0)["function"];
  EXPECT_EQ(s(fn["name"]), "get_weather");
  EXPECT_EQ(json(fn["arguments"]), R"({"city":"Paris"})");  // an object

  EXPECT_EQ(s(messages.at(3)["role"]), "tool");
  EXPECT_EQ(s(messages.at(3)["content"]), "Sunny, 21 C");
  EXPECT_EQ(s(messages.at(4)["content"]), "Thanks. Summarise.");
  EXPECT_FALSE(has(messages.at(4), "images"));

  ASSERT_EQ(size(doc["tools"]), 1u);
  EXPECT_EQ(s(doc["tools"].at(0)["type"]), "function");
  EXPECT_EQ(s(doc["tools"].at(0)["function"]["name"]), "get_weather");
  EXPECT_EQ(json(doc["tools"].at(0)["function"]["parameters"]), canon(kWeatherSchema));

  EXPECT_EQ(s(doc["format"]), "json");
  EXPECT_TRUE(b(doc["think"]));
  const auto options = doc["options"];
  EXPECT_DOUBLE_EQ(d(options["temperature"]), 0.7);
  EXPECT_DOUBLE_EQ(d(options["top_p"]), 0.9);
  EXPECT_EQ(i(options["num_predict"]), 256);
  EXPECT_EQ(i(options["seed"]), 42);
  EXPECT_EQ(json(options["stop"]), R"(["END","STOP"])");
  // Ollama streams unless told not to: stream is always explicit.
  EXPECT_FALSE(b(doc["stream"]));
  for (const char* top : {"temperature", "top_p", "max_tokens", "seed", "stop"}) {
    EXPECT_FALSE(has(doc, top)) << top;
  }
}

TEST(ProvidersRequest, OllamaStreamSchemaAndThinkOff) {
  lp::ChatRequest r = conversation(false);
  lp::set_param(r, "response_format", std::string(kAnswerSchema).c_str());
  lp::set_param(r, "thinking_budget", "0");
  const Body body(chat("ollama", r, true, endpoint("http://localhost:11434")).body);
  EXPECT_TRUE(b((*body)["stream"]));
  EXPECT_EQ(json((*body)["format"]), canon(kAnswerSchema));
  EXPECT_FALSE(b((*body)["think"]));

  lp::ChatRequest bare;
  lp::set_param(bare, "model", "llama3");
  lp::add_message(bare, "user", "Hi");
  const Body plain(chat("ollama", bare, true, endpoint("http://localhost:11434")).body);
  EXPECT_FALSE(has(*plain, "options"));
  EXPECT_FALSE(has(*plain, "format"));
  EXPECT_FALSE(has(*plain, "think"));
  EXPECT_TRUE(b((*plain)["stream"]));
}

TEST(ProvidersRequest, OllamaRejectsImageUrl) {
  const lp::ChatRequest r = conversation(true);
  EXPECT_EQ(status_of([&] { chat("ollama", r, false, endpoint("http://localhost:11434")); }),
            LLMKIT_UNSUPPORTED);
}

// ---- Thinking across turns -------------------------------------------------

// A tool-use turn as a thinking model answers it: reasoning blocks (a
// signed thought, a redacted one, a Gemini text signature, an unsigned
// thought), text, and a call with Gemini's signature; then its result.
lp::ChatRequest thinking_turn() {
  lp::ChatRequest r;
  lp::set_param(r, "model", "m");
  lp::set_param(r, "thinking_budget", "1024");
  lp::add_message(r, "user", "Weather in Paris?");
  lp::add_message(r, "assistant", "Let me check.");
  lp::add_thinking(
      r, lp::Thinking{make_string("I should call the tool."), make_string("sig/1+="), false});
  lp::add_thinking(r, lp::Thinking{{}, make_string("opaque=="), true});
  lp::add_thinking(r, lp::Thinking{{}, make_string("text-sig"), false});
  lp::add_thinking(r, lp::Thinking{make_string("Unsigned."), {}, false});
  lp::ToolCall call = weather_call();
  call.signature = make_string("call-sig");
  r.messages.back().tool_calls.push_back(call);
  r.messages.back().cache_breakpoint = true;
  r.messages.push_back(tool_result("call_1", "Sunny, 21 C"));
  return r;
}

TEST(ProvidersRequest, AnthropicSendsSignedThinkingFirstAndVerbatim) {
  const Body body(chat("anthropic", thinking_turn(), false, endpoint("https://a.example")).body);
  // Blocks without a signature cannot pass Anthropic's check: they stay out.
  // The cache mark stays on the last block, never on a thinking block.
  EXPECT_EQ(json((*body)["messages"].at(1)),
            R"({"role":"assistant","content":[)"
            R"({"type":"thinking","thinking":"I should call the tool.","signature":"sig/1+="},)"
            R"({"type":"redacted_thinking","data":"opaque=="},)"
            R"({"type":"thinking","thinking":"","signature":"text-sig"},)"
            R"({"type":"text","text":"Let me check."},)"
            R"({"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"},)"
            R"("cache_control":{"type":"ephemeral"}}]})")
      << body.text();
}

TEST(ProvidersRequest, GeminiSendsSignaturesOnThePartsTheyCameWith) {
  const Body body(chat("gemini", thinking_turn(), false, endpoint("https://g.example")).body);
  // Thoughts first, as thought parts; the text's signature on the text part,
  // the call's on its functionCall part; Anthropic's redacted block is left out.
  EXPECT_EQ(json((*body)["contents"].at(1)),
            R"({"role":"model","parts":[)"
            R"({"text":"I should call the tool.","thought":true,"thoughtSignature":"sig/1+="},)"
            R"({"text":"Unsigned.","thought":true},)"
            R"({"text":"Let me check.","thoughtSignature":"text-sig"},)"
            R"({"functionCall":{"name":"get_weather","args":{"city":"Paris"}},)"
            R"("thoughtSignature":"call-sig"}]})")
      << body.text();

  // With no text part to carry it, the text's signature comes back as Gemini
  // sent it: on an empty text part. Of several text parts, the last has it.
  lp::ChatRequest r = thinking_turn();
  r.messages[1].parts.clear();
  r.messages[1].thinking.erase(r.messages[1].thinking.begin());
  const Body alone(chat("gemini", r, false, endpoint("https://g.example")).body);
  EXPECT_EQ(json((*alone)["contents"].at(1)["parts"].at(1)),
            R"({"text":"","thoughtSignature":"text-sig"})");
  lp::ChatRequest two = thinking_turn();
  two.messages[1].parts.push_back(lp::Part{make_string("More."), std::nullopt});
  const Body last(chat("gemini", two, false, endpoint("https://g.example")).body);
  EXPECT_EQ(json((*last)["contents"].at(1)["parts"].at(2)), R"({"text":"Let me check."})");
  EXPECT_EQ(json((*last)["contents"].at(1)["parts"].at(3)),
            R"({"text":"More.","thoughtSignature":"text-sig"})");
}

TEST(ProvidersRequest, OpenAiAndOllamaLeaveThinkingOut) {
  lp::ChatRequest plain = thinking_turn();
  plain.messages[1].thinking.clear();
  plain.messages[1].tool_calls[0].signature.clear();
  lp::set_param(plain, "thinking_budget", nullptr);
  lp::ChatRequest signed_turn = thinking_turn();
  lp::set_param(signed_turn, "thinking_budget", nullptr);  // OpenAI takes none
  for (const char* p : {"openai", "openai-compatible", "ollama"}) {
    EXPECT_EQ(str(chat(p, signed_turn, false, endpoint("http://x")).body),
              str(chat(p, plain, false, endpoint("http://x")).body))
        << p;
  }
}

TEST(ProvidersRequest, AddThinkingValidates) {
  lp::ChatRequest r;
  const auto add = [&](const char* text, const char* signature, bool redacted) {
    return status_of([&] {
      lp::add_thinking(r, lp::Thinking{make_string(text), make_string(signature), redacted});
    });
  };
  EXPECT_EQ(add("t", "s", false), LLMKIT_INVALID_ARGUMENT);  // no message yet
  lp::add_message(r, "user", "hi");
  EXPECT_EQ(add("t", "s", false), LLMKIT_INVALID_ARGUMENT);  // not the assistant's
  lp::add_message(r, "assistant", "");
  EXPECT_EQ(add("", "", false), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(add("text", "data", true), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(add("", "", true), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(add("bad \xE2\x82", "s", false), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(add("t", "bad \xFF", false), LLMKIT_INVALID_ARGUMENT);
  EXPECT_TRUE(r.messages.back().thinking.empty());
  EXPECT_EQ(add("only text", "", false), LLMKIT_OK);
  EXPECT_EQ(add("", "only a signature", false), LLMKIT_OK);
  EXPECT_EQ(add("", "data", true), LLMKIT_OK);
  ASSERT_EQ(r.messages.back().thinking.size(), 3u);
  EXPECT_TRUE(r.messages.back().thinking[2].redacted);
}

// A recorded answer, parsed.
lp::Response answer(std::string_view provider, const std::string& fixture) {
  lp::Response out;
  lp::provider(provider).parse(llmkit::test::fixture(fixture), out);
  return out;
}

TEST(ProvidersRequest, AddResponseSendsARecordedTurnBackUnchanged) {
  // Anthropic: thinking, text and tool_use, as recorded, in their order.
  simdjson::dom::parser parser;
  const std::string recorded = llmkit::test::fixture("anthropic/tool_use_with_thinking.json");
  const element content = parser.parse(recorded)["content"].value();
  lp::ChatRequest r;
  lp::set_param(r, "model", "m");
  lp::add_message(r, "user", "What is the largest city in the user country?");
  lp::add_response(r, answer("anthropic", "anthropic/tool_use_with_thinking.json"));
  r.messages.push_back(tool_result("toolu_01YGzqpRE16Vricda3Aqcejo", "Mexico"));
  const Body body(chat("anthropic", r, false, endpoint("https://a.example")).body);
  EXPECT_EQ(sorted((*body)["messages"].at(1)["content"]), sorted(content));
  EXPECT_EQ(s((*body)["messages"].at(1)["role"]), "assistant");

  // Gemini: the call's thoughtSignature on its functionCall part.
  const std::string gemini = llmkit::test::fixture("gemini/function_call.json");
  const element part = parser.parse(gemini)["candidates"].at(0)["content"]["parts"].at(0).value();
  lp::ChatRequest g;
  lp::add_message(g, "user", "What is the capital of France?");
  lp::add_response(g, answer("gemini", "gemini/function_call.json"));
  g.messages.push_back(tool_result("call_0", "Paris"));
  const Body gbody(chat("gemini", g, false, endpoint("https://g.example")).body);
  EXPECT_EQ(sorted((*gbody)["contents"].at(1)["parts"].at(0)), sorted(part));
  EXPECT_EQ(s((*gbody)["contents"].at(2)["parts"].at(0)["functionResponse"]["name"]),
            "get_capital");
}

TEST(ProvidersRequest, AddResponseRefusesWhatIsNoTurn) {
  lp::ChatRequest r;
  const auto add = [&](const lp::Response& a) {
    return status_of([&] { lp::add_response(r, a); });
  };
  EXPECT_EQ(add(answer("anthropic", "anthropic/error_429_rate_limit.json")),
            LLMKIT_INVALID_ARGUMENT);
  lp::Response cut = answer("anthropic", "anthropic/thinking.json");
  cut.finish = LLMKIT_FINISH_NONE;
  EXPECT_EQ(add(cut), LLMKIT_INVALID_ARGUMENT);
  lp::Response empty;
  empty.finish = LLMKIT_FINISH_STOP;
  EXPECT_EQ(add(empty), LLMKIT_INVALID_ARGUMENT);
  lp::Response bad_arguments = answer("openai", "openai/chat_completion_tool_calls.json");
  bad_arguments.tool_calls.back().arguments = make_string("{\"city\":");
  EXPECT_EQ(add(bad_arguments), LLMKIT_INVALID_ARGUMENT);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(add(answer("openai", "openai/chat_completion_tool_calls.json")), LLMKIT_OK);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, lp::Role::kAssistant);
  EXPECT_TRUE(r.messages[0].thinking.empty());
}

// ---- Embeddings -------------------------------------------------------------

lp::EmbedRequest embed(std::string_view model, std::optional<std::int64_t> dimensions) {
  lp::EmbedRequest r;
  r.model = make_string(model);
  r.inputs.push_back(make_string("first text"));
  r.inputs.push_back(make_string("second \"text\""));
  r.dimensions = dimensions;
  return r;
}

TEST(ProvidersRequest, OpenAiEmbedRequest) {
  for (const char* p : {"openai", "openai-compatible"}) {
    const auto req = lp::provider(p).embed_request(endpoint("https://api.openai.com/v1"),
                                                   embed("text-embedding-3-small", 256));
    EXPECT_EQ(str(req.url), "https://api.openai.com/v1/embeddings");
    EXPECT_EQ(header(req, "Authorization"), "Bearer sk-test-123");
    const Body body(req.body);
    EXPECT_EQ(s((*body)["model"]), "text-embedding-3-small");
    EXPECT_EQ(json((*body)["input"]), R"(["first text","second \"text\""])");
    EXPECT_EQ(i((*body)["dimensions"]), 256);
    EXPECT_EQ(s((*body)["encoding_format"]), "float");
  }
  const Body plain(lp::provider("openai")
                       .embed_request(endpoint("https://api.openai.com/v1", ""),
                                      embed("text-embedding-3-small", std::nullopt))
                       .body);
  EXPECT_FALSE(has(*plain, "dimensions"));
}

TEST(ProvidersRequest, GeminiEmbedRequest) {
  for (const char* model : {"gemini-embedding-001", "models/gemini-embedding-001"}) {
    const auto req = lp::provider("gemini").embed_request(endpoint("https://g.example/v1beta"),
                                                          embed(model, 768));
    EXPECT_EQ(str(req.url),
              "https://g.example/v1beta/models/gemini-embedding-001:batchEmbedContents");
    EXPECT_EQ(header(req, "x-goog-api-key"), "sk-test-123");
    EXPECT_EQ(str(req.url).find("key="), std::string::npos);
    const Body body(req.body);
    const auto requests = (*body)["requests"];
    ASSERT_EQ(size(requests), 2u);
    EXPECT_EQ(s(requests.at(0)["model"]), "models/gemini-embedding-001");
    EXPECT_EQ(json(requests.at(0)["content"]), R"({"parts":[{"text":"first text"}]})");
    EXPECT_EQ(i(requests.at(0)["outputDimensionality"]), 768);
    EXPECT_EQ(s(requests.at(1)["content"]["parts"].at(0)["text"]), "second \"text\"");
  }
  const Body plain(lp::provider("gemini")
                       .embed_request(endpoint("https://g.example/v1beta"),
                                      embed("gemini-embedding-001", std::nullopt))
                       .body);
  EXPECT_FALSE(has((*plain)["requests"].at(0), "outputDimensionality"));
}

TEST(ProvidersRequest, OllamaEmbedRequest) {
  const auto req = lp::provider("ollama").embed_request(endpoint("http://localhost:11434", ""),
                                                        embed("all-minilm", 384));
  EXPECT_EQ(str(req.url), "http://localhost:11434/api/embed");
  EXPECT_FALSE(header(req, "Authorization"));
  const Body body(req.body);
  EXPECT_EQ(s((*body)["model"]), "all-minilm");
  EXPECT_EQ(json((*body)["input"]), R"(["first text","second \"text\""])");
  EXPECT_EQ(i((*body)["dimensions"]), 384);
}

TEST(ProvidersRequest, AnthropicHasNoEmbeddings) {
  const auto& anthropic = lp::provider("anthropic");
  EXPECT_EQ(status_of([&] {
              anthropic.embed_request(endpoint("https://api.anthropic.com"), embed("m", 8));
            }),
            LLMKIT_UNSUPPORTED);
  lp::Vector<lp::Vector<float>> out;
  EXPECT_EQ(status_of([&] { anthropic.parse_embeddings(R"({"embeddings":[]})", 0, out); }),
            LLMKIT_UNSUPPORTED);
}

TEST(ProvidersRequest, OpenAiParseEmbeddingsOrdersByIndex) {
  const auto& openai = lp::provider("openai");
  lp::Vector<lp::Vector<float>> out;
  out.emplace_back(1, 9.0f);  // appended after what is there
  const std::int64_t tokens = openai.parse_embeddings(
      R"({"object":"list","data":[
          {"object":"embedding","index":2,"embedding":[3.0]},
          {"object":"embedding","index":0,"embedding":[1.0,-1.5]},
          {"object":"embedding","index":1,"embedding":[2]}],
        "model":"text-embedding-3-small","usage":{"prompt_tokens":7,"total_tokens":7}})",
      3, out);
  EXPECT_EQ(tokens, 7);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], (lp::Vector<float>{9.0f}));
  EXPECT_EQ(out[1], (lp::Vector<float>{1.0f, -1.5f}));
  EXPECT_EQ(out[2], (lp::Vector<float>{2.0f}));
  EXPECT_EQ(out[3], (lp::Vector<float>{3.0f}));
}

TEST(ProvidersRequest, ParseEmbeddingsRejectsMismatches) {
  const auto fails = [](const char* provider, std::string_view body, std::size_t inputs) {
    lp::Vector<lp::Vector<float>> out;
    return status_of([&] { lp::provider(provider).parse_embeddings(body, inputs, out); });
  };
  constexpr std::string_view kOpenAiTwo =
      R"({"data":[{"index":0,"embedding":[1]},{"index":1,"embedding":[2]}]})";
  EXPECT_EQ(fails("openai", kOpenAiTwo, 2), LLMKIT_OK);
  EXPECT_EQ(fails("openai", kOpenAiTwo, 0), LLMKIT_OK);  // 0: as many as the body holds
  EXPECT_EQ(fails("openai", kOpenAiTwo, 3), LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("openai", kOpenAiTwo, 1), LLMKIT_PROVIDER_ERROR);  // index 1 out of range
  EXPECT_EQ(fails("openai", R"({"data":[{"index":0,"embedding":[1,"x"]}]})", 1),
            LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("openai", R"({"data":[{"index":0,"embedding":{"a":1}}]})", 1),
            LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("openai", R"({"data":[{"index":-1,"embedding":[1]}]})", 1),
            LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("openai", R"({"data":[{"index":1e300,"embedding":[1]}]})", 1),
            LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("openai", R"({"data":[{"index":-1e300,"embedding":[1]}]})", 1),
            LLMKIT_PROVIDER_ERROR);
  // Two answers for input 0 and none for input 1.
  EXPECT_EQ(
      fails("openai", R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]})", 2),
      LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("openai", "not json", 1), LLMKIT_PROVIDER_ERROR);

  constexpr std::string_view kGeminiTwo = R"({"embeddings":[{"values":[1,2]},{"values":[3,4]}]})";
  EXPECT_EQ(fails("gemini", kGeminiTwo, 2), LLMKIT_OK);
  EXPECT_EQ(fails("gemini", kGeminiTwo, 3), LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("gemini", R"({"embeddings":[{"values":[1,null]}]})", 1), LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("gemini", R"({"embeddings":[{"values":"1"}]})", 1), LLMKIT_PROVIDER_ERROR);

  constexpr std::string_view kOllamaTwo = R"({"embeddings":[[1,2],[3,4]],"prompt_eval_count":4})";
  EXPECT_EQ(fails("ollama", kOllamaTwo, 2), LLMKIT_OK);
  EXPECT_EQ(fails("ollama", kOllamaTwo, 1), LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("ollama", R"({"embeddings":[[1,true]]})", 1), LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(fails("ollama", "[", 1), LLMKIT_PROVIDER_ERROR);
}

TEST(ProvidersRequest, ParseEmbeddingsOfGeminiAndOllama) {
  lp::Vector<lp::Vector<float>> out;
  EXPECT_EQ(lp::provider("gemini").parse_embeddings(
                R"({"embeddings":[{"values":[0.5,1]},{"values":[-2]}]})", 2, out),
            0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (lp::Vector<float>{0.5f, 1.0f}));
  EXPECT_EQ(out[1], (lp::Vector<float>{-2.0f}));
  out.clear();
  EXPECT_EQ(
      lp::provider("ollama").parse_embeddings(
          R"({"model":"all-minilm","embeddings":[[0.25],[1,2]],"prompt_eval_count":6})", 0, out),
      6);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (lp::Vector<float>{0.25f}));
  EXPECT_EQ(out[1], (lp::Vector<float>{1.0f, 2.0f}));
}

// ---- Parameters, messages, image URLs ---------------------------------------

TEST(ProvidersRequest, SetParamParsesAndUnsets) {
  lp::ChatRequest r;
  lp::set_param(r, "temperature", "0.25");
  lp::set_param(r, "top_p", "1");
  lp::set_param(r, "max_tokens", "0");
  lp::set_param(r, "seed", "9007199254740993");
  lp::set_param(r, "thinking_budget", "2048");
  lp::set_param(r, "tool_choice", "get_weather");
  lp::set_param(r, "response_format", "{}");
  lp::set_param(r, "extra", R"({"a":{"b":1}})");
  EXPECT_EQ(r.temperature, 0.25);
  EXPECT_EQ(r.top_p, 1.0);
  EXPECT_EQ(r.max_tokens, 0);
  EXPECT_EQ(r.seed, 9007199254740993);
  EXPECT_EQ(r.thinking_budget, 2048);
  EXPECT_EQ(str(r.tool_choice), "get_weather");
  EXPECT_EQ(str(r.response_format), "{}");
  for (const char* key :
       {"temperature", "top_p", "max_tokens", "seed", "thinking_budget", "response_format"}) {
    lp::set_param(r, key, nullptr);
  }
  EXPECT_FALSE(r.temperature);
  EXPECT_FALSE(r.top_p);
  EXPECT_FALSE(r.max_tokens);
  EXPECT_FALSE(r.seed);
  EXPECT_FALSE(r.thinking_budget);
  EXPECT_TRUE(r.response_format.empty());
}

TEST(ProvidersRequest, SetParamRejectsBadValues) {
  lp::ChatRequest r;
  const auto status = [&](const char* key, const char* value) {
    return status_of([&] { lp::set_param(r, key, value); });
  };
  for (const char* bad : {"", "abc", "0.7x", " 0.7", "nan", "inf", "-inf", "1e999", "0,7"}) {
    EXPECT_EQ(status("temperature", bad), LLMKIT_INVALID_ARGUMENT) << bad;
    EXPECT_EQ(status("top_p", bad), LLMKIT_INVALID_ARGUMENT) << bad;
  }
  for (const char* key : {"max_tokens", "seed", "thinking_budget"}) {
    for (const char* bad : {"", "-1", "1.5", "1e3", "abc", "12 ", "99999999999999999999"}) {
      EXPECT_EQ(status(key, bad), LLMKIT_INVALID_ARGUMENT) << key << "=" << bad;
    }
  }
  EXPECT_EQ(status("temp", "0.5"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status("", "x"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status("Model", "x"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status("system", "caf\xC3"), LLMKIT_INVALID_ARGUMENT);  // truncated UTF-8
  EXPECT_EQ(status("model", "\xFFmodel"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status("tool_choice", "\xC0\xAF"), LLMKIT_INVALID_ARGUMENT);  // overlong
  for (const char* bad : {"xml", "[1]", "\"json\"", "{", "JSON"}) {
    EXPECT_EQ(status("response_format", bad), LLMKIT_INVALID_ARGUMENT) << bad;
  }
  // A rejected value leaves the parameter as it was.
  lp::set_param(r, "temperature", "0.5");
  EXPECT_EQ(status("temperature", "hot"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(r.temperature, 0.5);
}

TEST(ProvidersRequest, AddMessageValidates) {
  lp::ChatRequest r;
  EXPECT_EQ(status_of([&] { lp::last_message(r); }), LLMKIT_INVALID_ARGUMENT);
  for (const char* role : {"system", "tool", "User", ""}) {
    EXPECT_EQ(status_of([&] { lp::add_message(r, role, "hi"); }), LLMKIT_INVALID_ARGUMENT) << role;
  }
  EXPECT_EQ(status_of([&] { lp::add_message(r, "user", "bad \xE2\x82"); }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_TRUE(r.messages.empty());
  lp::add_message(r, "user", "hello");
  lp::add_message(r, "assistant", "");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, lp::Role::kUser);
  ASSERT_EQ(r.messages[0].parts.size(), 1u);
  EXPECT_EQ(str(r.messages[0].parts[0].text), "hello");
  EXPECT_EQ(r.messages[1].role, lp::Role::kAssistant);
  EXPECT_TRUE(r.messages[1].parts.empty());  // empty text: no part
  EXPECT_EQ(&lp::last_message(r), &r.messages[1]);
}

TEST(ProvidersRequest, ImageFromUrl) {
  const lp::Image inline_image = lp::image_from_url(data_url());
  EXPECT_TRUE(inline_image.url.empty());
  EXPECT_EQ(str(inline_image.media_type), "image/png");
  EXPECT_EQ(str(inline_image.base64), kPng);
  const lp::Image jpeg = lp::image_from_url("data:image/jpeg;base64,/9j/4AAQ");
  EXPECT_EQ(str(jpeg.media_type), "image/jpeg");
  EXPECT_EQ(str(jpeg.base64), "/9j/4AAQ");
  for (const std::string_view url : {kImageUrl, std::string_view("http://localhost/a.png")}) {
    const lp::Image remote = lp::image_from_url(url);
    EXPECT_EQ(str(remote.url), url);
    EXPECT_TRUE(remote.base64.empty());
    EXPECT_TRUE(remote.media_type.empty());
  }
  for (const char* bad :
       {"", "ftp://example.com/a.png", "example.com/a.png", "data:image/png,abc",
        "data:image/png;base64", "data:;base64,abc", "data:image/png;utf8,abc",
        "https//example.com", "file:///etc/passwd", "data:image/png;base64,\xFF"}) {
    EXPECT_EQ(status_of([&] { lp::image_from_url(bad); }), LLMKIT_INVALID_ARGUMENT) << bad;
  }
}

TEST(ProvidersRequest, RequireJsonObject) {
  EXPECT_EQ(status_of([] { lp::require_json_object(R"({"type":"object"})", "parameters"); }),
            LLMKIT_OK);
  for (const char* bad : {"", "[]", "null", "1", "{", "{\"a\":}", "\"{}\""}) {
    EXPECT_EQ(status_of([&] { lp::require_json_object(bad, "parameters"); }),
              LLMKIT_INVALID_ARGUMENT)
        << bad;
  }
}

TEST(ProvidersRequest, UnknownProviderIsInvalid) {
  for (const char* name : {"", "OpenAI", "claude", "openai_compatible", "vertex"}) {
    EXPECT_EQ(status_of([&] { lp::provider(name); }), LLMKIT_INVALID_ARGUMENT) << name;
  }
  for (const char* name : {"openai", "openai-compatible", "anthropic", "gemini", "ollama"}) {
    EXPECT_EQ(lp::provider(name).name(), name);
  }
}

TEST(ProvidersRequest, TextIsEscapedOnTheWire) {
  // Quotes, backslashes, control bytes and non-ASCII text survive every body.
  const std::string tricky = "say \"hi\" \\ \n\t\x01 caf\xC3\xA9 \xF0\x9F\x98\x80";
  lp::ChatRequest r;
  lp::set_param(r, "model", "m");
  lp::set_param(r, "system", tricky.c_str());
  lp::add_message(r, "user", tricky);
  for (const char* p : {"openai", "anthropic", "gemini", "ollama"}) {
    const Body body(chat(p, r, false, endpoint("http://x")).body);
    const std::string_view name(p);
    const std::string user = name == "openai"   ? s((*body)["messages"].at(1)["content"])
                             : name == "ollama" ? s((*body)["messages"].at(1)["content"])
                             : name == "gemini"
                                 ? s((*body)["contents"].at(0)["parts"].at(0)["text"])
                                 : s((*body)["messages"].at(0)["content"].at(0)["text"]);
    EXPECT_EQ(user, tricky) << p;
  }
}

}  // namespace
