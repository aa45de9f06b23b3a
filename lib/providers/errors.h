// Classifying provider errors: an HTTP status, a provider's error type, and
// hints to retry later, into the response's error fields
// (docs/providers.md, "Errors").
#pragma once

#include <cstdint>
#include <string_view>

#include "http/transport.h"
#include "providers/response.h"

namespace llmkit::providers {

// The status an error type or code names (OpenAI, Anthropic, Gemini);
// PROVIDER_ERROR for one it does not know.
llmkit_status status_for_type(std::string_view type);
// The status an HTTP error status means.
llmkit_status status_for_http(int http_status);

// Fills the error fields from an error body's `type` (or code) and
// `message`, detecting a context that is too long.
void set_provider_error(Response& r, std::string_view type, std::string_view message);

// After parse() of a non-2xx answer: the HTTP status decides the status
// (keeping the detail), and Retry-After / retry-after-ms set the hint.
// `now_s` is the Unix time for an HTTP-date Retry-After.
void apply_http_status(Response& r, int http_status, const http::Headers& headers,
                       std::int64_t now_s);

// "34s", "1.5s" (a protobuf Duration's JSON form) in ms; -1 when malformed.
std::int64_t duration_ms(std::string_view text);

}  // namespace llmkit::providers
