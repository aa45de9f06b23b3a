// The normalised chat request every provider builds its wire body from.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/alloc.h"

namespace llmkit::providers {

using llmkit::Vector;

enum class Role { kUser, kAssistant, kTool };

struct Image {
  String url;         // an http(s) URL; empty for inline data
  String media_type;  // inline data only, e.g. "image/png"
  String base64;      // inline data only
};

struct Part {
  String text;  // a text part, unless `image` is set
  std::optional<Image> image;
};

struct ToolCall {
  String id;
  String name;
  String arguments;  // JSON text
  String signature;  // Gemini's thoughtSignature on the functionCall part; opaque
};

// A block of the model's reasoning. Anthropic (a signed `thinking` block, or
// `redacted_thinking`) and Gemini (a thought part, or a text part's
// thoughtSignature) verify these when they come back on the next turn, so
// they travel unchanged and in order.
struct Thinking {
  String text;       // may be empty: a redacted block, or a Gemini text part's signature alone
  String signature;  // opaque; a redacted block's `data`
  bool redacted = false;
};

struct Message {
  Role role = Role::kUser;
  Vector<Part> parts;
  Vector<Thinking> thinking;    // assistant messages: sent before the parts (Anthropic)
  Vector<ToolCall> tool_calls;  // assistant messages
  String tool_call_id;          // tool messages: the call this answers
  bool cache_breakpoint = false;
};

struct Tool {
  String name;
  String description;
  String parameters;  // a JSON schema (object) text
};

struct ChatRequest {
  String model;
  String system;
  bool system_cache_breakpoint = false;
  Vector<Message> messages;
  Vector<Tool> tools;
  String tool_choice;      // "", "auto", "none", "required", or a tool's name
  String response_format;  // "", "text", "json", or a JSON schema (object) text
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::int64_t> max_tokens;
  std::optional<std::int64_t> seed;
  std::optional<std::int64_t> thinking_budget;
  Vector<String> stop;
  String extra;  // a JSON object merged into the wire body, member by member
};

struct EmbedRequest {
  String model;
  Vector<String> inputs;
  std::optional<std::int64_t> dimensions;
};

}  // namespace llmkit::providers

namespace llmkit::providers {

// Sets one parameter by its C API name (llmkit_request_set); a null value
// unsets it. INVALID_ARGUMENT for an unknown key or a malformed value.
void set_param(ChatRequest& request, std::string_view key, const char* value);

// Appends a message; `role` is "user" or "assistant".
void add_message(ChatRequest& request, std::string_view role, std::string_view text);
// The last message: INVALID_ARGUMENT when there is none.
Message& last_message(ChatRequest& request);
// Appends a reasoning block to the last message, which must be the
// assistant's. INVALID_ARGUMENT for invalid UTF-8, a block with neither text
// nor signature, or a redacted one with text or without data.
void add_thinking(ChatRequest& request, Thinking block);
// An image from an http(s) URL or a base64 data: URL.
Image image_from_url(std::string_view url);
// INVALID_ARGUMENT naming `what` unless `text` is a JSON object.
void require_json_object(std::string_view text, std::string_view what);

}  // namespace llmkit::providers
