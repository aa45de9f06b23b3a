// The normalised answer of every provider (docs/providers.md).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "llmkit.h"
#include "providers/request.h"

namespace llmkit::providers {

struct Usage {
  std::int64_t input = 0;  // every prompt token; cached and cache_write are parts of it
  std::int64_t output = 0;
  std::int64_t cached_input = 0;
  std::int64_t cache_write = 0;
  std::int64_t reasoning = 0;  // part of output
};

struct Response {
  String text;
  String reasoning;           // every provider's thinking text, concatenated
  Vector<Thinking> thinking;  // Anthropic's and Gemini's blocks, for add_response
  Vector<ToolCall> tool_calls;
  llmkit_finish_reason finish = LLMKIT_FINISH_NONE;
  String finish_raw;
  Usage usage;
  String model;
  String id;
  // USD, from the client's price table (docs/cost.md): 0 for an answer that
  // no provider was paid for; none when the model has no price.
  std::optional<double> cost_usd;
  int attempts = 1;  // tries the call took: 1, or more after retries
  String provider;   // who answered, and through which deployment (docs/routing.md)
  String deployment;

  // An error answer: status not OK.
  llmkit_status status = LLMKIT_OK;
  String message;
  String detail;  // e.g. "context_length_exceeded", "overloaded"
  std::int64_t retry_after_ms = -1;
  int http_status = 0;

  String raw;  // the body, when asked for (a stream's events are not kept)

  // Timing, in microseconds from the start of the call.
  std::int64_t latency_us = 0;
  std::int64_t first_token_us = -1;
  std::int64_t max_gap_us = 0;  // the longest pause between two stream chunks
  std::int64_t chunks = 0;

  bool cached = false;  // served from the client's response cache (docs/cache.md)
};

const char* finish_name(llmkit_finish_reason finish) noexcept;

// Appends the normalised answer as one JSON object (docs/providers.md):
// text, reasoning, thinking (when there is any), finish_reason, usage,
// tool_calls, and error for an error.
void append_json(String& out, const Response& r);

// Appends the assistant turn of `answer` to `request`: its thinking, text
// and tool calls (llmkit_request_add_response). INVALID_ARGUMENT for an error
// answer, an unfinished one, one with nothing to add, or tool call arguments
// that are not a JSON object.
void add_response(ChatRequest& request, const Response& answer);

// Sets the error fields; `finish` becomes ERROR.
void set_error(Response& r, llmkit_status status, std::string_view message,
               std::string_view detail = {});

}  // namespace llmkit::providers
