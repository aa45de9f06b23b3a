#include "providers/response.h"

#include <string>

#include "core/error.h"
#include "providers/wire.h"

namespace llmkit::providers {

const char* finish_name(llmkit_finish_reason finish) noexcept {
  switch (finish) {
    case LLMKIT_FINISH_STOP:
      return "stop";
    case LLMKIT_FINISH_LENGTH:
      return "length";
    case LLMKIT_FINISH_TOOL_CALLS:
      return "tool_calls";
    case LLMKIT_FINISH_CONTENT_FILTER:
      return "content_filter";
    case LLMKIT_FINISH_REFUSAL:
      return "refusal";
    case LLMKIT_FINISH_ERROR:
      return "error";
    case LLMKIT_FINISH_NONE:
      break;
  }
  return "none";
}

void append_json(String& out, const Response& r) {
  wire::Writer w(out);
  w.begin_object().field("text", r.text).field("reasoning", r.reasoning);
  // Only when present, so that answers without blocks keep their old form.
  if (!r.thinking.empty()) {
    w.key("thinking").begin_array();
    for (const Thinking& t : r.thinking) {
      w.begin_object();
      if (t.redacted) {
        w.field("redacted", t.signature);
      } else {
        w.field("text", t.text).field("signature", t.signature);
      }
      w.end_object();
    }
    w.end_array();
  }
  w.field("finish_reason", finish_name(r.finish));
  w.key("usage").begin_object();
  w.key("input_tokens").number(r.usage.input).key("output_tokens").number(r.usage.output);
  w.key("cached_input_tokens").number(r.usage.cached_input);
  w.key("cache_write_tokens").number(r.usage.cache_write);
  w.key("reasoning_tokens").number(r.usage.reasoning).end_object();
  w.key("tool_calls").begin_array();
  for (const ToolCall& c : r.tool_calls) {
    w.begin_object().field("id", c.id).field("name", c.name).field("arguments", c.arguments);
    if (!c.signature.empty()) w.field("signature", c.signature);
    w.end_object();
  }
  w.end_array();
  if (r.status != LLMKIT_OK) {
    w.key("error").begin_object().field("status", llmkit_status_str(r.status));
    w.field("message", r.message).end_object();
  }
  w.end_object();
}

namespace {

using simdjson::dom::element;

[[noreturn]] void not_an_answer(std::string_view why) {
  fail(LLMKIT_INVALID_ARGUMENT, "not an answer as append_json writes it: " + std::string(why));
}

// Member `key` of `object`, which must be there with the type `want`.
element field_of(element object, std::string_view key, simdjson::dom::element_type want) {
  element v;
  if (!object.is_object() || object.get_object()[key].get(v) || v.type() != want) {
    not_an_answer(std::string(key) + " is missing or mistyped");
  }
  return v;
}

String text_of(element object, std::string_view key) {
  return make_string(field_of(object, key, simdjson::dom::element_type::STRING).get_string());
}

std::int64_t count_of(element object, std::string_view key) {
  element v;
  if (!object.is_object() || object.get_object()[key].get(v) || !v.is_int64()) {
    not_an_answer(std::string(key) + " is missing or not an integer");
  }
  return v.get_int64().value_unsafe();
}

llmkit_finish_reason finish_named(std::string_view name) {
  for (int f = LLMKIT_FINISH_NONE; f <= LLMKIT_FINISH_ERROR; ++f) {
    const auto reason = static_cast<llmkit_finish_reason>(f);
    if (name == finish_name(reason)) return reason;
  }
  not_an_answer("unknown finish_reason " + std::string(name));
}

}  // namespace

void read_json(element answer, Response& out) {
  using Type = simdjson::dom::element_type;
  if (!answer.is_object()) not_an_answer("not an object");
  if (wire::has(answer, "error")) not_an_answer("an error answer");
  out.text = text_of(answer, "text");
  out.reasoning = text_of(answer, "reasoning");
  if (wire::has(answer, "thinking")) {
    for (const element block : field_of(answer, "thinking", Type::ARRAY).get_array()) {
      Thinking t;
      t.redacted = wire::has(block, "redacted");
      if (t.redacted) {
        t.signature = text_of(block, "redacted");
      } else {
        t.text = text_of(block, "text");
        t.signature = text_of(block, "signature");
      }
      out.thinking.push_back(std::move(t));
    }
  }
  out.finish = finish_named(field_of(answer, "finish_reason", Type::STRING).get_string().value());
  const element usage = field_of(answer, "usage", Type::OBJECT);
  out.usage.input = count_of(usage, "input_tokens");
  out.usage.output = count_of(usage, "output_tokens");
  out.usage.cached_input = count_of(usage, "cached_input_tokens");
  out.usage.cache_write = count_of(usage, "cache_write_tokens");
  out.usage.reasoning = count_of(usage, "reasoning_tokens");
  for (const element call : field_of(answer, "tool_calls", Type::ARRAY).get_array()) {
    ToolCall c{text_of(call, "id"), text_of(call, "name"), text_of(call, "arguments"), {}};
    if (wire::has(call, "signature")) c.signature = text_of(call, "signature");
    out.tool_calls.push_back(std::move(c));
  }
}

void add_response(ChatRequest& request, const Response& answer) {
  if (answer.status != LLMKIT_OK) {
    fail(LLMKIT_INVALID_ARGUMENT, "an error answer is no turn to add (" +
                                      std::string(llmkit_status_str(answer.status)) + ": " +
                                      std::string(answer.message) + ")");
  }
  // A cut stream may end inside a tool call's arguments or before a
  // signature: the provider would refuse the turn.
  if (answer.finish == LLMKIT_FINISH_NONE) {
    fail(LLMKIT_INVALID_ARGUMENT, "the answer did not finish (a cut stream): no turn to add");
  }
  if (answer.text.empty() && answer.thinking.empty() && answer.tool_calls.empty()) {
    fail(LLMKIT_INVALID_ARGUMENT, "the answer has no text, thinking or tool call to add");
  }
  // Anthropic and Gemini take the arguments as a JSON object, as they are.
  for (const ToolCall& c : answer.tool_calls) {
    require_json_object(c.arguments, "the arguments of tool call \"" + std::string(c.id) + "\"");
  }
  Message m;
  m.role = Role::kAssistant;
  if (!answer.text.empty()) m.parts.push_back(Part{answer.text, std::nullopt});
  m.thinking = answer.thinking;
  m.tool_calls = answer.tool_calls;
  request.messages.push_back(std::move(m));
}

void set_error(Response& r, llmkit_status status, std::string_view message,
               std::string_view detail) {
  r.status = status;
  r.message = make_string(message);
  r.detail = make_string(detail);
  r.finish = LLMKIT_FINISH_ERROR;
}

}  // namespace llmkit::providers
