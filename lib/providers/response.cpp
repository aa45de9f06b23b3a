#include "providers/response.h"

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
  w.field("finish_reason", finish_name(r.finish));
  w.key("usage").begin_object();
  w.key("input_tokens").number(r.usage.input).key("output_tokens").number(r.usage.output);
  w.key("cached_input_tokens").number(r.usage.cached_input);
  w.key("cache_write_tokens").number(r.usage.cache_write);
  w.key("reasoning_tokens").number(r.usage.reasoning).end_object();
  w.key("tool_calls").begin_array();
  for (const ToolCall& c : r.tool_calls) {
    w.begin_object().field("id", c.id).field("name", c.name).field("arguments", c.arguments);
    w.end_object();
  }
  w.end_array();
  if (r.status != LLMKIT_OK) {
    w.key("error").begin_object().field("status", llmkit_status_str(r.status));
    w.field("message", r.message).end_object();
  }
  w.end_object();
}

void set_error(Response& r, llmkit_status status, std::string_view message,
               std::string_view detail) {
  r.status = status;
  r.message = make_string(message);
  r.detail = make_string(detail);
  r.finish = LLMKIT_FINISH_ERROR;
}

}  // namespace llmkit::providers
