#include "providers/request.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/json.h"
#include "core/utf8.h"

namespace llmkit::providers {
namespace {

double number_of(std::string_view key, std::string_view text) {
  double d = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), d);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(d)) {
    fail(LLMKIT_INVALID_ARGUMENT, std::string(key) + " must be a number, not " + utf8::quote(text));
  }
  return d;
}

std::int64_t integer_of(std::string_view key, std::string_view text) {
  std::int64_t n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || n < 0) {
    fail(LLMKIT_INVALID_ARGUMENT,
         std::string(key) + " must be a whole number >= 0, not " + utf8::quote(text));
  }
  return n;
}

}  // namespace

void require_json_object(std::string_view text, std::string_view what) {
  simdjson::dom::parser parser;
  if (!json::parse(parser, text, what).is_object()) {
    fail(LLMKIT_INVALID_ARGUMENT, std::string(what) + " must be a JSON object");
  }
}

void set_param(ChatRequest& r, std::string_view key, const char* value) {
  const bool set = value != nullptr;
  const std::string_view v = set ? std::string_view(value) : std::string_view();
  if (set) utf8::require_valid(v, key);
  if (key == "model") {
    r.model = make_string(v);
  } else if (key == "system") {
    r.system = make_string(v);
  } else if (key == "temperature") {
    r.temperature = set ? std::optional(number_of(key, v)) : std::nullopt;
  } else if (key == "top_p") {
    r.top_p = set ? std::optional(number_of(key, v)) : std::nullopt;
  } else if (key == "max_tokens") {
    r.max_tokens = set ? std::optional(integer_of(key, v)) : std::nullopt;
  } else if (key == "seed") {
    r.seed = set ? std::optional(integer_of(key, v)) : std::nullopt;
  } else if (key == "thinking_budget") {
    r.thinking_budget = set ? std::optional(integer_of(key, v)) : std::nullopt;
  } else if (key == "tool_choice") {
    r.tool_choice = make_string(v);
  } else if (key == "response_format") {
    if (set && v != "text" && v != "json") require_json_object(v, "response_format");
    r.response_format = make_string(v);
  } else if (key == "extra") {
    if (set) require_json_object(v, "extra");
    r.extra = make_string(v);
  } else {
    fail(LLMKIT_INVALID_ARGUMENT,
         "unknown request parameter " + utf8::quote(key) +
             ": model, system, temperature, top_p, max_tokens, seed, thinking_budget, "
             "tool_choice, response_format, extra");
  }
}

void add_message(ChatRequest& r, std::string_view role, std::string_view text) {
  Message m;
  if (role == "user") {
    m.role = Role::kUser;
  } else if (role == "assistant") {
    m.role = Role::kAssistant;
  } else {
    fail(LLMKIT_INVALID_ARGUMENT, R"(role must be "user" or "assistant", not )" +
                                      utf8::quote(role) + " (tool results: add_tool_result)");
  }
  utf8::require_valid(text, "text");
  if (!text.empty()) m.parts.push_back(Part{make_string(text), std::nullopt});
  r.messages.push_back(std::move(m));
}

Message& last_message(ChatRequest& r) {
  if (r.messages.empty()) fail(LLMKIT_INVALID_ARGUMENT, "the request has no message yet");
  return r.messages.back();
}

void add_thinking(ChatRequest& r, Thinking block) {
  Message& m = last_message(r);
  if (m.role != Role::kAssistant) {
    fail(LLMKIT_INVALID_ARGUMENT, "a thinking block belongs to an assistant message");
  }
  utf8::require_valid(block.text, "text");
  utf8::require_valid(block.signature, "signature");
  if (block.redacted && !block.text.empty()) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "a redacted thinking block has no text: its data is the signature");
  }
  if (block.signature.empty() && (block.redacted || block.text.empty())) {
    fail(LLMKIT_INVALID_ARGUMENT, block.redacted ? "a redacted thinking block needs its data"
                                                 : "a thinking block needs a text or a signature");
  }
  m.thinking.push_back(std::move(block));
}

Image image_from_url(std::string_view url) {
  utf8::require_valid(url, "url");
  Image image;
  if (url.substr(0, 8) == "https://" || url.substr(0, 7) == "http://") {
    image.url = make_string(url);
    return image;
  }
  // data:[<media type>][;base64],<data>
  const std::size_t comma = url.find(',');
  const std::string_view head = url.substr(0, comma);
  static constexpr std::string_view kSuffix = ";base64";
  if (url.substr(0, 5) != "data:" || comma == std::string_view::npos ||
      head.size() < 5 + kSuffix.size() + 1 ||
      head.substr(head.size() - kSuffix.size()) != kSuffix) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "an image URL must be http(s) or \"data:<media type>;base64,<data>\", not " +
             utf8::quote(url));
  }
  image.media_type = make_string(head.substr(5, head.size() - 5 - kSuffix.size()));
  image.base64 = make_string(url.substr(comma + 1));
  return image;
}

}  // namespace llmkit::providers
