// OpenAI Chat Completions, and every server that speaks it (vLLM,
// llama.cpp, OpenRouter, Groq, DeepSeek, Ollama's /v1): "openai-compatible"
// differs only in sending "max_tokens" where OpenAI wants
// "max_completion_tokens", and in reading reasoning text some of them add.
#include "providers/openai.h"

#include <optional>

#include "core/error.h"
#include "providers/body.h"
#include "providers/errors.h"
#include "providers/wire.h"

namespace llmkit::providers {
namespace {

using simdjson::dom::element;

void write_content(wire::Writer& w, const Message& m) {
  bool images = false;
  for (const Part& p : m.parts) images |= p.image.has_value();
  if (!images) {
    String text;
    for (const Part& p : m.parts) text += p.text;
    w.string(text);
    return;
  }
  w.begin_array();
  for (const Part& p : m.parts) {
    w.begin_object();
    if (p.image) {
      String url = p.image->url;
      if (url.empty()) {
        url = make_string("data:") + p.image->media_type + ";base64," + p.image->base64;
      }
      w.field("type", "image_url").key("image_url").begin_object().field("url", url).end_object();
    } else {
      w.field("type", "text").field("text", p.text);
    }
    w.end_object();
  }
  w.end_array();
}

void write_messages(wire::Writer& w, const ChatRequest& r) {
  w.key("messages").begin_array();
  if (!r.system.empty()) {
    w.begin_object().field("role", "system").field("content", r.system).end_object();
  }
  for (const Message& m : r.messages) {
    w.begin_object();
    switch (m.role) {
      case Role::kUser:
        w.field("role", "user").key("content");
        write_content(w, m);
        break;
      case Role::kAssistant:
        // Thinking blocks and signatures stay out: they are Anthropic's and
        // Gemini's; Chat Completions has no place for them, and DeepSeek
        // refuses its own reasoning_content sent back.
        w.field("role", "assistant").key("content");
        if (m.parts.empty()) {
          w.null();
        } else {
          write_content(w, m);
        }
        if (!m.tool_calls.empty()) {
          w.key("tool_calls").begin_array();
          for (const ToolCall& c : m.tool_calls) {
            w.begin_object().field("id", c.id).field("type", "function");
            w.key("function").begin_object().field("name", c.name).field("arguments", c.arguments);
            w.end_object().end_object();
          }
          w.end_array();
        }
        break;
      case Role::kTool:
        w.field("role", "tool").field("tool_call_id", m.tool_call_id).key("content");
        write_content(w, m);
        break;
    }
    w.end_object();
  }
  w.end_array();
}

void write_tools(wire::Writer& w, const ChatRequest& r) {
  if (r.tools.empty()) return;
  w.key("tools").begin_array();
  for (const Tool& t : r.tools) {
    w.begin_object().field("type", "function").key("function").begin_object();
    w.field("name", t.name);
    if (!t.description.empty()) w.field("description", t.description);
    if (!t.parameters.empty()) w.key("parameters").raw(t.parameters);
    w.end_object().end_object();
  }
  w.end_array();
  if (r.tool_choice.empty()) return;
  w.key("tool_choice");
  if (r.tool_choice == "auto" || r.tool_choice == "none" || r.tool_choice == "required") {
    w.string(r.tool_choice);
  } else {
    w.begin_object().field("type", "function").key("function").begin_object();
    w.field("name", r.tool_choice).end_object().end_object();
  }
}

llmkit_finish_reason finish_for(std::string_view raw) {
  if (raw == "stop") return LLMKIT_FINISH_STOP;
  if (raw == "length") return LLMKIT_FINISH_LENGTH;
  if (raw == "tool_calls" || raw == "function_call") return LLMKIT_FINISH_TOOL_CALLS;
  if (raw == "content_filter") return LLMKIT_FINISH_CONTENT_FILTER;
  return raw.empty() ? LLMKIT_FINISH_NONE : LLMKIT_FINISH_STOP;
}

void set_finish(Response& out, std::string_view raw) {
  out.finish_raw = make_string(raw);
  out.finish = finish_for(raw);
}

void read_usage(element usage, Usage& u) {
  if (!usage.is_object()) return;
  u.input = wire::num(usage, "prompt_tokens");
  u.output = wire::num(usage, "completion_tokens");
  u.cached_input = wire::num(wire::member(usage, "prompt_tokens_details"), "cached_tokens");
  if (u.cached_input == 0) u.cached_input = wire::num(usage, "prompt_cache_hit_tokens");
  u.reasoning = wire::num(wire::member(usage, "completion_tokens_details"), "reasoning_tokens");
}

// Reasoning text of OpenAI-compatible servers: DeepSeek and vLLM send
// "reasoning_content", OpenRouter and Groq "reasoning".
std::string_view reasoning_of(element message) {
  const std::string_view r = wire::str(message, "reasoning_content");
  return r.empty() ? wire::str(message, "reasoning") : r;
}

bool read_error(element doc, Response& out) {
  const element error = wire::member(doc, "error");
  if (!error.is_object()) return false;
  std::string_view type = wire::str(error, "code");
  if (type.empty() || status_for_type(type) == LLMKIT_PROVIDER_ERROR) {
    type = wire::str(error, "type");
  }
  set_provider_error(out, type, wire::str(error, "message"));
  return true;
}

class OpenAiDecoder final : public Decoder {
 public:
  OpenAiDecoder(Response& out, DeltaFn fn) : Decoder(Framing::kSse, out, std::move(fn)) {}

 private:
  void on_text(std::string_view event, std::string_view data) override {
    if (data == "[DONE]") {
      done_ = true;
      return;
    }
    Decoder::on_text(event, data);
  }
  void on_json(std::string_view, element chunk) override {
    if (read_error(chunk, out_)) {
      done_ = true;
      return;
    }
    if (out_.id.empty()) out_.id = make_string(wire::str(chunk, "id"));
    if (out_.model.empty()) out_.model = make_string(wire::str(chunk, "model"));
    read_usage(wire::member(chunk, "usage"), out_.usage);
    for (const element choice : wire::array(chunk, "choices")) {
      if (wire::num(choice, "index") != 0) continue;
      const element delta = wire::member(choice, "delta");
      text(Delta::kReasoning, reasoning_of(delta));
      text(Delta::kText, wire::str(delta, "content"));
      if (const auto refusal = wire::str(delta, "refusal"); !refusal.empty()) {
        refused_ = true;
        text(Delta::kText, refusal);
      }
      for (const element call : wire::array(delta, "tool_calls")) {
        const element fn = wire::member(call, "function");
        tool_call(wire::num(call, "index"), wire::str(call, "id"), wire::str(fn, "name"),
                  wire::str(fn, "arguments"));
      }
      if (const auto raw = wire::str(choice, "finish_reason"); !raw.empty()) {
        set_finish(out_, raw);
        if (refused_) out_.finish = LLMKIT_FINISH_REFUSAL;
      }
    }
  }

  bool refused_ = false;
};

}  // namespace

http::Request OpenAi::chat_request(const Endpoint& endpoint, const ChatRequest& r,
                                   std::string_view model, bool stream) const {
  String body;
  wire::Writer w(body);
  w.begin_object().field("model", model);
  write_messages(w, r);
  write_tools(w, r);
  if (r.temperature) w.key("temperature").number(*r.temperature);
  if (r.top_p) w.key("top_p").number(*r.top_p);
  if (r.max_tokens)
    (compatible_ ? w.key("max_tokens") : w.key("max_completion_tokens")).number(*r.max_tokens);
  if (r.seed) w.key("seed").number(*r.seed);
  if (!r.stop.empty()) {
    w.key("stop").begin_array();
    for (const String& s : r.stop) w.string(s);
    w.end_array();
  }
  if (r.response_format == "json") {
    w.key("response_format").begin_object().field("type", "json_object").end_object();
  } else if (!r.response_format.empty() && r.response_format != "text") {
    w.key("response_format").begin_object().field("type", "json_schema");
    w.key("json_schema").begin_object().field("name", "response");
    w.key("schema").raw(r.response_format).end_object().end_object();
  }
  if (r.thinking_budget) {
    fail(LLMKIT_UNSUPPORTED,
         R"(OpenAI takes no thinking budget: pass {"reasoning_effort": ...} in "extra")");
  }
  if (stream) {
    w.key("stream").boolean(true);
    w.key("stream_options").begin_object().key("include_usage").boolean(true).end_object();
  }
  w.end_object();
  http::Request req = post_json(endpoint.base_url + "/chat/completions", std::move(body), r.extra);
  add_bearer(req, endpoint);
  return req;
}

void OpenAi::parse(std::string_view body, Response& out) const {
  std::optional<simdjson::dom::parser> big;
  const element doc = parse_answer(answer_parser(body.size(), big), body);
  if (read_error(doc, out)) return;
  const auto choices = wire::array(doc, "choices");
  if (!doc.is_object() || !wire::has(doc, "choices")) {
    fail(LLMKIT_PROVIDER_ERROR, "the answer is not a chat completion (no \"choices\")");
  }
  out.id = make_string(wire::str(doc, "id"));
  out.model = make_string(wire::str(doc, "model"));
  read_usage(wire::member(doc, "usage"), out.usage);
  for (const element choice : choices) {
    if (wire::num(choice, "index") != 0) continue;
    const element message = wire::member(choice, "message");
    out.text = make_string(wire::str(message, "content"));
    out.reasoning = make_string(reasoning_of(message));
    for (const element call : wire::array(message, "tool_calls")) {
      const element fn = wire::member(call, "function");
      out.tool_calls.push_back(ToolCall{make_string(wire::str(call, "id")),
                                        make_string(wire::str(fn, "name")),
                                        make_string(wire::str(fn, "arguments")),
                                        {}});
    }
    set_finish(out, wire::str(choice, "finish_reason"));
    if (const auto refusal = wire::str(message, "refusal"); !refusal.empty()) {
      out.text = make_string(refusal);
      out.finish = LLMKIT_FINISH_REFUSAL;
    }
    break;
  }
}

std::unique_ptr<StreamDecoder> OpenAi::decoder(Response& out, DeltaFn on_delta) const {
  return std::make_unique<OpenAiDecoder>(out, std::move(on_delta));
}

http::Request OpenAi::embed_request(const Endpoint& endpoint, const EmbedRequest& r) const {
  http::Request req = post_json(endpoint.base_url + "/embeddings", inputs_body(r, true), {});
  add_bearer(req, endpoint);
  return req;
}

std::int64_t OpenAi::parse_embeddings(std::string_view body, std::size_t inputs,
                                      Vector<Vector<float>>& out) const {
  simdjson::dom::parser parser;
  const element doc = parse_answer(parser, body);
  const auto data = embeddings_array(doc, "data");
  if (inputs == 0) inputs = data.size();
  // Filled apart and appended at the end: `out` is unchanged when this throws.
  Vector<Vector<float>> vectors(inputs);
  Vector<bool> filled(inputs, false);
  std::size_t seen = 0;
  for (const element item : data) {
    const std::int64_t index = wire::num(item, "index");
    if (index < 0 || static_cast<std::size_t>(index) >= inputs) {
      fail(LLMKIT_PROVIDER_ERROR, "an embedding's index is out of range");
    }
    const auto at = static_cast<std::size_t>(index);
    if (filled[at]) {
      fail(LLMKIT_PROVIDER_ERROR, "two embeddings have the index " + std::to_string(index));
    }
    filled[at] = true;
    read_vector(wire::member(item, "embedding"), vectors[at]);
    ++seen;
  }
  require_count(seen, inputs);
  out.reserve(out.size() + inputs);
  for (auto& v : vectors) out.push_back(std::move(v));
  return wire::num(wire::member(doc, "usage"), "prompt_tokens");
}

}  // namespace llmkit::providers
