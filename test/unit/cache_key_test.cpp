// Cache keys: every field that can change an answer changes the key; JSON
// spelling (member order, number form, escapes, whitespace) and the fields
// that cannot change an answer do not; scopes and providers never meet.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cache/key.h"
#include "core/json.h"
#include "status_of.h"

namespace {

using llmkit::cache::Key;

// A Chat Completions request with every kind of part and parameter.
const std::string kBase =
    R"({"model":"gpt-4o","messages":[)"
    R"({"role":"system","content":"Be brief."},)"
    R"({"role":"user","name":"ann","content":[{"type":"text","text":"What is this?"},)"
    R"({"type":"image_url","image_url":{"url":"https://e.com/a.png","detail":"low"}},)"
    R"({"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}]},)"
    R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",)"
    R"("function":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}]},)"
    R"({"role":"tool","tool_call_id":"call_1","content":"42"}],)"
    R"("tools":[{"type":"function","function":{"name":"lookup","description":"Look up",)"
    R"("parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}],)"
    R"("tool_choice":"auto","response_format":{"type":"json_object"},)"
    R"("temperature":0,"top_p":1,"n":1,"stop":["END"],"max_tokens":100,)"
    R"("presence_penalty":0,"frequency_penalty":0,"logit_bias":{"50256":-100},)"
    R"("seed":7,"parallel_tool_calls":true,"logprobs":false,"reasoning_effort":"low",)"
    R"("modalities":["text"],"service_tier":"auto"})";

Key key_of(const std::string& json, std::string_view scope = "team-a",
           std::string_view provider = "openai") {
  simdjson::dom::parser parser;
  return llmkit::cache::request_key(scope, provider, llmkit::json::parse(parser, json, "request"));
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "the base request has no " << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string hex(const Key& k) {
  char out[Key::kHexSize];
  k.to_hex(out);
  return {out, sizeof out};
}

TEST(CacheKey, ChangesWithEveryParameter) {
  // Each case changes one thing that can change the answer.
  const std::vector<std::pair<std::string, std::string>> changes = {
      {R"("model":"gpt-4o")", R"("model":"gpt-4o-mini")"},
      {R"("Be brief.")", R"("Be brief!")"},
      {R"("role":"system")", R"("role":"developer")"},
      {R"("name":"ann")", R"("name":"bob")"},
      {R"("What is this?")", R"("What is that?")"},
      {R"("https://e.com/a.png")", R"("https://e.com/b.png")"},
      {R"("detail":"low")", R"("detail":"high")"},
      {R"("data":"UklGRg==")", R"("data":"UklGRh==")"},
      {R"("format":"wav")", R"("format":"mp3")"},
      {R"("id":"call_1")", R"("id":"call_2")"},
      {R"({\"q\":\"x\"})", R"({\"q\":\"y\"})"},
      {R"("tool_call_id":"call_1")", R"("tool_call_id":"call_9")"},
      {R"("content":"42")", R"("content":"43")"},
      {R"("description":"Look up")", R"("description":"Find")"},
      {R"("required":["q"])", R"("required":[])"},
      {R"("tool_choice":"auto")", R"("tool_choice":"required")"},
      {R"("tool_choice":"auto")",
       R"("tool_choice":{"type":"function","function":{"name":"lookup"}})"},
      {R"("response_format":{"type":"json_object"})", R"("response_format":{"type":"text"})"},
      {R"("temperature":0)", R"("temperature":0.7)"},
      {R"("top_p":1)", R"("top_p":0.9)"},
      {R"("n":1)", R"("n":2)"},
      {R"("stop":["END"])", R"("stop":["STOP"])"},
      {R"("max_tokens":100)", R"("max_tokens":101)"},
      {R"("max_tokens":100)", R"("max_completion_tokens":100)"},
      {R"("presence_penalty":0)", R"("presence_penalty":0.5)"},
      {R"("frequency_penalty":0)", R"("frequency_penalty":0.5)"},
      {R"("50256":-100)", R"("50256":100)"},
      {R"("seed":7)", R"("seed":8)"},
      {R"("parallel_tool_calls":true)", R"("parallel_tool_calls":false)"},
      {R"("logprobs":false)", R"("logprobs":true)"},
      {R"("reasoning_effort":"low")", R"("reasoning_effort":"high")"},
      {R"("modalities":["text"])", R"("modalities":["text","audio"])"},
      {R"("service_tier":"auto")", R"("service_tier":"flex")"},
      // Provider-specific parameters, and any field the list does not know.
      {R"("seed":7)", R"("seed":7,"top_k":40)"},
      {R"("seed":7)", R"("seed":7,"thinking":{"type":"enabled","budget_tokens":1024})"},
      {R"("seed":7)", R"("seed":7,"generationConfig":{"candidateCount":2})"},
      {R"("seed":7)", R"("seed":7,"options":{"num_ctx":8192})"},
      {R"("seed":7)", R"("seed":7,"some_future_field":1)"},
      // Order inside arrays is meaning: messages and parts.
      {R"({"role":"system","content":"Be brief."},)", ""},
      {R"({"type":"text","text":"What is this?"},)", ""},
  };
  const Key base = key_of(kBase);
  std::vector<std::string> seen = {hex(base)};
  for (const auto& [from, to] : changes) {
    const std::string changed = replaced(kBase, from, to);
    const std::string k = hex(key_of(changed));
    for (const auto& s : seen) EXPECT_NE(k, s) << from << " -> " << to;
    seen.push_back(k);
  }
}

TEST(CacheKey, IgnoresFieldsThatCannotChangeTheAnswer) {
  const Key base = key_of(kBase);
  for (const std::string field :
       {R"("stream":true)", R"("stream_options":{"include_usage":true})", R"("user":"u-123")",
        R"("metadata":{"trace":"t1"})", R"("store":true)", R"("timeout":30)",
        R"("request_id":"req-9")", R"("safety_identifier":"s")", R"("prompt_cache_key":"p")",
        R"("prompt_cache_retention":"24h")", R"("keep_alive":"5m")", R"("idempotency_key":"i")"}) {
    EXPECT_EQ(key_of(replaced(kBase, R"("seed":7)", R"("seed":7,)" + field)), base) << field;
  }
  // Only at the top level: inside a message a "user" field is content.
  EXPECT_NE(key_of(replaced(kBase, R"("content":"42")", R"("content":"42","user":"x")")), base);
}

TEST(CacheKey, IgnoresJsonSpelling) {
  // Members reordered at every level, numbers spelled otherwise, escapes,
  // and whitespace: the same request.
  const std::string respelled = R"({ "service_tier":"auto", "modalities":["text"],
    "reasoning_effort":"low","logprobs":false,"parallel_tool_calls":true,"seed":7.0,
    "logit_bias":{"50256":-1e2},"frequency_penalty":-0.0,"presence_penalty":0e5,
    "max_tokens":1.00e2,"stop":["\u0045ND"],"n":1,"top_p":1.0,"temperature":0.0,
    "response_format":{"type":"json_object"},"tool_choice":"auto",
    "tools":[{"function":{"parameters":{"required":["q"],"properties":{"q":{"type":"string"}},
      "type":"object"},"description":"Look up","name":"lookup"},"type":"function"}],
    "messages":[{"content":"Be brief\u002e","role":"system"},
      {"content":[{"text":"What is this?","type":"text"},
        {"image_url":{"detail":"low","url":"https:\/\/e.com\/a.png"},"type":"image_url"},
        {"input_audio":{"format":"wav","data":"UklGRg=="},"type":"input_audio"}],
       "name":"ann","role":"user"},
      {"tool_calls":[{"function":{"arguments":"{\"q\":\"x\"}","name":"lookup"},
        "type":"function","id":"call_1"}],"content":null,"role":"assistant"},
      {"content":"42","tool_call_id":"call_1","role":"tool"}],
    "model":"gpt-4o" })";
  EXPECT_EQ(key_of(respelled), key_of(kBase));
}

TEST(CacheKey, ScopesAndProvidersNeverMeet) {
  const Key a = key_of(kBase, "team-a");
  EXPECT_NE(key_of(kBase, "team-b"), a);
  EXPECT_NE(key_of(kBase, ""), a);
  EXPECT_NE(key_of(kBase, "team-a", "azure"), a);
  // The parts are length-prefixed: moving bytes between them is another key.
  EXPECT_NE(key_of(kBase, "team-ao", "penai"), a);
  EXPECT_EQ(key_of(kBase, "team-a"), a);
}

TEST(CacheKey, TypesAreDistinct) {
  EXPECT_NE(key_of(R"({"seed":1})"), key_of(R"({"seed":"1"})"));
  EXPECT_NE(key_of(R"({"seed":1})"), key_of(R"({"seed":true})"));
  EXPECT_NE(key_of(R"({"stop":null})"), key_of(R"({"stop":[]})"));
  EXPECT_NE(key_of(R"({"stop":[]})"), key_of(R"({"stop":{}})"));
  EXPECT_NE(key_of(R"({"stop":["a","b"]})"), key_of(R"({"stop":["ab"]})"));
  EXPECT_NE(key_of(R"({"a":{"b":1},"c":2})"), key_of(R"({"a":{"b":1,"c":2}})"));
  // Integers that a double cannot tell apart stay apart.
  EXPECT_NE(key_of(R"({"seed":9007199254740993})"), key_of(R"({"seed":9007199254740992})"));
  EXPECT_NE(key_of(R"({"seed":18446744073709551615})"), key_of(R"({"seed":18446744073709551614})"));
}

TEST(CacheKey, RejectsWhatIsNotARequest) {
  EXPECT_EQ(status_of([] { key_of("[1,2]"); }), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] { key_of(R"({"model":)"); }), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] { key_of("{\"model\":\"\xff\"}"); }), LLMKIT_INVALID_ARGUMENT);
}

TEST(CacheKey, HexRoundTrips) {
  const Key k = key_of(kBase);
  const std::string h = hex(k);
  EXPECT_EQ(h.size(), 32u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(Key::from_hex(h), k);
  std::string upper = h;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Key::from_hex(upper), k);
  EXPECT_EQ(status_of([&] { Key::from_hex(h.substr(1)); }), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { Key::from_hex("g" + h.substr(1)); }), LLMKIT_INVALID_ARGUMENT);
}

TEST(CacheKey, TemperaturePolicySeesEveryProvidersField) {
  simdjson::dom::parser p;
  const auto random = [&](const std::string& json) {
    return llmkit::cache::samples_randomly(llmkit::json::parse(p, json, "request"));
  };
  EXPECT_FALSE(random(R"({"temperature":0})"));
  EXPECT_FALSE(random(R"({"temperature":0.0})"));
  EXPECT_TRUE(random(R"({"temperature":0.2})"));
  EXPECT_TRUE(random(R"({"model":"m"})"));  // the providers' default is not 0
  EXPECT_FALSE(random(R"({"generationConfig":{"temperature":0}})"));
  EXPECT_TRUE(random(R"({"generationConfig":{"topK":1}})"));
  EXPECT_FALSE(random(R"({"options":{"temperature":0}})"));
  EXPECT_TRUE(random(R"({"options":{"temperature":0.8}})"));
}

}  // namespace
