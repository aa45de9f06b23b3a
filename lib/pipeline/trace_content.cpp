#include "pipeline/trace_content.h"

#include <string_view>

#include "core/json.h"

namespace llmkit::pipeline {
namespace {

class Parts {
 public:
  explicit Parts(String& out) : out_(out) {}
  // {"type": type, key: value}, strings each.
  void add(std::string_view type, std::string_view key, std::string_view value) {
    open(type);
    field(key, value);
    out_.push_back('}');
  }
  void tool_call(const providers::ToolCall& c) {
    open("tool_call");
    field("id", c.id);
    field("name", c.name);
    field("arguments", c.arguments);  // as text: a cut stream's may not parse
    out_.push_back('}');
  }
  void open(std::string_view type) {
    out_ += first_ ? "{\"type\":" : ",{\"type\":";
    first_ = false;
    json::append_string(out_, type);
  }
  void field(std::string_view key, std::string_view value) {
    out_.push_back(',');
    json::append_string(out_, key);
    out_.push_back(':');
    json::append_string(out_, value);
  }

 private:
  String& out_;
  bool first_ = true;
};

void open_message(String& out, bool& first, std::string_view role) {
  out += first ? "{\"role\":" : ",{\"role\":";
  first = false;
  json::append_string(out, role);
  out += ",\"parts\":[";
}

std::string_view role_name(providers::Role role) {
  switch (role) {
    case providers::Role::kAssistant:
      return "assistant";
    case providers::Role::kTool:
      return "tool";
    case providers::Role::kUser:
      break;
  }
  return "user";
}

}  // namespace

String input_messages(const providers::ChatRequest& request) {
  String out = make_string("[");
  bool first = true;
  if (!request.system.empty()) {
    open_message(out, first, "system");
    Parts(out).add("text", "content", request.system);
    out += "]}";
  }
  for (const providers::Message& m : request.messages) {
    open_message(out, first, role_name(m.role));
    Parts parts(out);
    for (const providers::Thinking& t : m.thinking) {
      if (!t.text.empty()) parts.add("reasoning", "content", t.text);
    }
    for (const providers::Part& p : m.parts) {
      if (!p.image) {
        parts.add("text", "content", p.text);
      } else if (!p.image->url.empty()) {
        parts.add("uri", "uri", p.image->url);
      } else {
        parts.open("blob");
        parts.field("mime_type", p.image->media_type);
        parts.field("content", p.image->base64);
        out.push_back('}');
      }
    }
    for (const providers::ToolCall& c : m.tool_calls) parts.tool_call(c);
    if (m.role == providers::Role::kTool) {
      parts.open("tool_call_response");
      parts.field("id", m.tool_call_id);
      out.push_back('}');
    }
    out += "]}";
  }
  out.push_back(']');
  return out;
}

String output_messages(const providers::Response& response) {
  String out = make_string("[");
  bool first = true;
  open_message(out, first, "assistant");
  Parts parts(out);
  if (!response.reasoning.empty()) parts.add("reasoning", "content", response.reasoning);
  if (!response.text.empty()) parts.add("text", "content", response.text);
  for (const providers::ToolCall& c : response.tool_calls) parts.tool_call(c);
  out += "],\"finish_reason\":";
  json::append_string(out, providers::finish_name(response.finish));
  out += "}]";
  return out;
}

}  // namespace llmkit::pipeline
