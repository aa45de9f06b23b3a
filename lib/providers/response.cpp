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
