#include "providers/anthropic.h"

#include <optional>

#include "core/error.h"
#include "providers/body.h"
#include "providers/errors.h"
#include "providers/wire.h"

namespace llmkit::providers {
namespace {

using simdjson::dom::element;

// Anthropic requires max_tokens; this (plus any thinking budget) is the
// default when a request sets none.
constexpr std::int64_t kDefaultMaxTokens = 4096;

void cache_mark(wire::Writer& w, bool mark) {
  if (mark) w.key("cache_control").begin_object().field("type", "ephemeral").end_object();
}

// An assistant turn's thinking blocks go first and unchanged: with thinking
// on, a turn that used a tool must start with them, and Anthropic checks
// each signature. A block without one (another provider's) cannot pass that
// check, so it stays out. Anthropic takes no cache_control on them.
void write_thinking(wire::Writer& w, const Message& m) {
  for (const Thinking& t : m.thinking) {
    if (t.signature.empty()) continue;
    w.begin_object();
    if (t.redacted) {
      w.field("type", "redacted_thinking").field("data", t.signature);
    } else {
      w.field("type", "thinking").field("thinking", t.text).field("signature", t.signature);
    }
    w.end_object();
  }
}

// Content blocks of `m`; the last one carries the cache breakpoint.
void write_blocks(wire::Writer& w, const Message& m) {
  w.key("content").begin_array();
  write_thinking(w, m);
  // A tool message is one tool_result block, whatever its parts.
  const std::size_t n = (m.role == Role::kTool ? 1 : m.parts.size()) + m.tool_calls.size();
  std::size_t i = 0;
  const auto last = [&] { return ++i == n && m.cache_breakpoint; };
  if (m.role == Role::kTool) {
    String text;
    for (const Part& p : m.parts) text += p.text;
    w.begin_object().field("type", "tool_result").field("tool_use_id", m.tool_call_id);
    w.field("content", text);
    cache_mark(w, last());
    w.end_object();
  } else {
    for (const Part& p : m.parts) {
      w.begin_object();
      if (p.image && !p.image->url.empty()) {
        w.field("type", "image").key("source").begin_object();
        w.field("type", "url").field("url", p.image->url).end_object();
      } else if (p.image) {
        w.field("type", "image").key("source").begin_object().field("type", "base64");
        w.field("media_type", p.image->media_type).field("data", p.image->base64).end_object();
      } else {
        w.field("type", "text").field("text", p.text);
      }
      cache_mark(w, last());
      w.end_object();
    }
  }
  for (const ToolCall& c : m.tool_calls) {
    w.begin_object().field("type", "tool_use").field("id", c.id).field("name", c.name);
    w.key("input").raw(c.arguments.empty() ? std::string_view("{}")
                                           : std::string_view(c.arguments));
    cache_mark(w, last());
    w.end_object();
  }
  w.end_array();
}

void write_tools(wire::Writer& w, const ChatRequest& r) {
  if (r.tools.empty()) return;
  w.key("tools").begin_array();
  for (const Tool& t : r.tools) {
    w.begin_object().field("name", t.name);
    if (!t.description.empty()) w.field("description", t.description);
    w.key("input_schema")
        .raw(t.parameters.empty() ? std::string_view(R"({"type":"object"})")
                                  : std::string_view(t.parameters));
    w.end_object();
  }
  w.end_array();
  if (r.tool_choice.empty()) return;
  w.key("tool_choice").begin_object();
  if (r.tool_choice == "auto" || r.tool_choice == "none") {
    w.field("type", r.tool_choice);
  } else if (r.tool_choice == "required") {
    w.field("type", "any");
  } else {
    w.field("type", "tool").field("name", r.tool_choice);
  }
  w.end_object();
}

void set_finish(Response& out, std::string_view raw) {
  out.finish_raw = make_string(raw);
  if (raw == "max_tokens" || raw == "model_context_window_exceeded") {
    out.finish = LLMKIT_FINISH_LENGTH;
  } else if (raw == "tool_use") {
    out.finish = LLMKIT_FINISH_TOOL_CALLS;
  } else if (raw == "refusal") {
    out.finish = LLMKIT_FINISH_REFUSAL;
  } else if (!raw.empty()) {
    out.finish = LLMKIT_FINISH_STOP;  // end_turn, stop_sequence, pause_turn
  }
}

// Anthropic's input_tokens leaves out the tokens read from or written to the
// prompt cache; llmkit's input counts them all.
struct RawUsage {
  std::int64_t input = 0, output = 0, cache_read = 0, cache_write = 0;
  void read(element usage) {
    if (!usage.is_object()) return;
    if (wire::has(usage, "input_tokens")) input = wire::num(usage, "input_tokens");
    if (wire::has(usage, "output_tokens")) output = wire::num(usage, "output_tokens");
    if (wire::has(usage, "cache_read_input_tokens")) {
      cache_read = wire::num(usage, "cache_read_input_tokens");
    }
    if (wire::has(usage, "cache_creation_input_tokens")) {
      cache_write = wire::num(usage, "cache_creation_input_tokens");
    }
  }
  void store(Usage& u) const {
    u.input = input + cache_read + cache_write;
    u.output = output;
    u.cached_input = cache_read;
    u.cache_write = cache_write;
  }
};

// A thinking or redacted_thinking block as it starts (a stream's deltas add
// to it).
Thinking thinking_of(element block) {
  Thinking t;
  t.redacted = wire::str(block, "type") == "redacted_thinking";
  t.text = make_string(wire::str(block, "thinking"));
  t.signature = make_string(wire::str(block, t.redacted ? "data" : "signature"));
  return t;
}

bool read_error(element doc, Response& out) {
  if (wire::str(doc, "type") != "error") return false;
  const element error = wire::member(doc, "error");
  set_provider_error(out, wire::str(error, "type"), wire::str(error, "message"));
  return true;
}

class AnthropicDecoder final : public Decoder {
 public:
  AnthropicDecoder(Response& out, DeltaFn fn) : Decoder(Framing::kSse, out, std::move(fn)) {}

 private:
  void on_json(std::string_view event, element data) override {
    const std::string_view type = event.empty() ? wire::str(data, "type") : event;
    if (type == "message_start") {
      const element message = wire::member(data, "message");
      out_.id = make_string(wire::str(message, "id"));
      out_.model = make_string(wire::str(message, "model"));
      usage_.read(wire::member(message, "usage"));
      usage_.store(out_.usage);
    } else if (type == "content_block_start") {
      const element block = wire::member(data, "content_block");
      const std::string_view kind = wire::str(block, "type");
      if (kind == "tool_use") {
        const int tool = static_cast<int>(out_.tool_calls.size());
        block_at(wire::num(data, "index")).tool = tool;
        tool_call(tool, wire::str(block, "id"), wire::str(block, "name"), {});
      } else if (kind == "thinking" || kind == "redacted_thinking") {
        block_at(wire::num(data, "index")).thinking = static_cast<int>(out_.thinking.size());
        out_.thinking.push_back(thinking_of(block));
        text(Delta::kReasoning, out_.thinking.back().text);
      }
    } else if (type == "content_block_delta") {
      const element delta = wire::member(data, "delta");
      const std::string_view kind = wire::str(delta, "type");
      if (kind == "text_delta") {
        text(Delta::kText, wire::str(delta, "text"));
      } else if (kind == "thinking_delta") {
        const std::string_view piece = wire::str(delta, "thinking");
        thinking_at(wire::num(data, "index"), kind).text.append(piece.data(), piece.size());
        text(Delta::kReasoning, piece);
      } else if (kind == "signature_delta") {
        const std::string_view piece = wire::str(delta, "signature");
        thinking_at(wire::num(data, "index"), kind).signature.append(piece.data(), piece.size());
      } else if (kind == "input_json_delta") {
        const int tool = block_at(wire::num(data, "index")).tool;
        if (tool < 0)
          fail(LLMKIT_PROVIDER_ERROR, "input_json_delta for a block that is no tool_use");
        tool_call(tool, {}, {}, wire::str(delta, "partial_json"));
      }
    } else if (type == "content_block_stop") {
      // A tool called without arguments streams no input_json_delta at all.
      const int tool = block_at(wire::num(data, "index")).tool;
      if (tool >= 0 && out_.tool_calls[static_cast<std::size_t>(tool)].arguments.empty()) {
        tool_call(tool, {}, {}, "{}");
      }
    } else if (type == "message_delta") {
      set_finish(out_, wire::str(wire::member(data, "delta"), "stop_reason"));
      usage_.read(wire::member(data, "usage"));
      usage_.store(out_.usage);
    } else if (type == "message_stop") {
      done_ = true;
    } else if (type == "error") {
      read_error(data, out_);
      done_ = true;
    }
    // ping, and event types added later, carry nothing to keep.
  }

  // What a content block holds: a tool call or a thinking block, by its
  // index in the response, or neither (-1).
  struct Block {
    int tool = -1;
    int thinking = -1;
  };

  Block& block_at(std::int64_t index) {
    if (index < 0 || index > 4096)
      fail(LLMKIT_PROVIDER_ERROR, "a content block index is out of range");
    while (blocks_.size() <= static_cast<std::size_t>(index)) blocks_.emplace_back();
    return blocks_[static_cast<std::size_t>(index)];
  }

  // A delta's block must be a thinking block: its signature has nowhere else to go.
  Thinking& thinking_at(std::int64_t index, std::string_view delta) {
    const int thinking = block_at(index).thinking;
    if (thinking < 0) {
      fail(LLMKIT_PROVIDER_ERROR, std::string(delta) + " for a block that is no thinking block");
    }
    return out_.thinking[static_cast<std::size_t>(thinking)];
  }

  RawUsage usage_;
  Vector<Block> blocks_;  // by content block index
};

}  // namespace

http::Request Anthropic::chat_request(const Endpoint& endpoint, const ChatRequest& r,
                                      std::string_view model, bool stream) const {
  if (!r.response_format.empty() && r.response_format != "text") {
    fail(LLMKIT_UNSUPPORTED,
         "Anthropic has no JSON response format: ask for JSON in the prompt or force a tool");
  }
  String body;
  wire::Writer w(body);
  w.begin_object().field("model", model);
  // Thinking counts against max_tokens, which must exceed the budget.
  w.key("max_tokens")
      .number(r.max_tokens.value_or(kDefaultMaxTokens + r.thinking_budget.value_or(0)));
  if (!r.system.empty()) {
    w.key("system").begin_array().begin_object().field("type", "text").field("text", r.system);
    cache_mark(w, r.system_cache_breakpoint);
    w.end_object().end_array();
  }
  w.key("messages").begin_array();
  for (const Message& m : r.messages) {
    w.begin_object().field("role", m.role == Role::kAssistant ? "assistant" : "user");
    write_blocks(w, m);
    w.end_object();
  }
  w.end_array();
  write_tools(w, r);
  if (r.temperature) w.key("temperature").number(*r.temperature);
  if (r.top_p) w.key("top_p").number(*r.top_p);
  if (!r.stop.empty()) {
    w.key("stop_sequences").begin_array();
    for (const String& s : r.stop) w.string(s);
    w.end_array();
  }
  if (r.thinking_budget) {
    w.key("thinking").begin_object().field("type", "enabled");
    w.key("budget_tokens").number(*r.thinking_budget).end_object();
  }
  // Anthropic has no seed: a seed is a best effort everywhere, so it is dropped.
  if (stream) w.key("stream").boolean(true);
  w.end_object();
  http::Request req = post_json(endpoint.base_url + "/v1/messages", std::move(body), r.extra);
  if (!endpoint.api_key.empty()) add_header(req, "x-api-key", endpoint.api_key);
  add_header(req, "anthropic-version", endpoint.version);
  return req;
}

void Anthropic::parse(std::string_view body, Response& out) const {
  std::optional<simdjson::dom::parser> big;
  const element doc = parse_answer(answer_parser(body.size(), big), body);
  if (read_error(doc, out)) return;
  if (!wire::has(doc, "content")) {
    fail(LLMKIT_PROVIDER_ERROR, "the answer is not a message (no \"content\")");
  }
  out.id = make_string(wire::str(doc, "id"));
  out.model = make_string(wire::str(doc, "model"));
  for (const element block : wire::array(doc, "content")) {
    const std::string_view type = wire::str(block, "type");
    if (type == "text") {
      out.text += wire::str(block, "text");
    } else if (type == "thinking" || type == "redacted_thinking") {
      out.thinking.push_back(thinking_of(block));
      out.reasoning += out.thinking.back().text;
    } else if (type == "tool_use") {
      ToolCall call{
          make_string(wire::str(block, "id")), make_string(wire::str(block, "name")), {}, {}};
      json::append_element(call.arguments, wire::member(block, "input"));
      out.tool_calls.push_back(std::move(call));
    }
  }
  set_finish(out, wire::str(doc, "stop_reason"));
  RawUsage usage;
  usage.read(wire::member(doc, "usage"));
  usage.store(out.usage);
}

std::unique_ptr<StreamDecoder> Anthropic::decoder(Response& out, DeltaFn on_delta) const {
  return std::make_unique<AnthropicDecoder>(out, std::move(on_delta));
}

}  // namespace llmkit::providers
