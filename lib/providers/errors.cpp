#include "providers/errors.h"

#include <strings.h>

#include <ctime>  // strptime and timegm are POSIX and glibc, declared here too

#include <algorithm>
#include <charconv>
#include <string>

namespace llmkit::providers {
namespace {

struct TypeStatus {
  std::string_view type;
  llmkit_status status;
};

// Error types and codes of OpenAI, Anthropic and Gemini (docs/providers.md).
constexpr TypeStatus kTypes[] = {
    {"rate_limit_exceeded", LLMKIT_RATE_LIMITED},
    {"insufficient_quota", LLMKIT_RATE_LIMITED},
    {"rate_limit_error", LLMKIT_RATE_LIMITED},
    {"RESOURCE_EXHAUSTED", LLMKIT_RATE_LIMITED},
    {"invalid_api_key", LLMKIT_AUTH},
    {"authentication_error", LLMKIT_AUTH},
    {"permission_error", LLMKIT_AUTH},
    {"UNAUTHENTICATED", LLMKIT_AUTH},
    {"PERMISSION_DENIED", LLMKIT_AUTH},
    {"invalid_request_error", LLMKIT_INVALID_ARGUMENT},
    {"context_length_exceeded", LLMKIT_INVALID_ARGUMENT},
    {"request_too_large", LLMKIT_INVALID_ARGUMENT},
    {"INVALID_ARGUMENT", LLMKIT_INVALID_ARGUMENT},
    {"FAILED_PRECONDITION", LLMKIT_INVALID_ARGUMENT},
    {"model_not_found", LLMKIT_NOT_FOUND},
    {"not_found_error", LLMKIT_NOT_FOUND},
    {"NOT_FOUND", LLMKIT_NOT_FOUND},
    {"overloaded_error", LLMKIT_OVERLOADED},
    {"UNAVAILABLE", LLMKIT_OVERLOADED},
    {"DEADLINE_EXCEEDED", LLMKIT_TIMEOUT},
    {"server_error", LLMKIT_PROVIDER_ERROR},
    {"api_error", LLMKIT_PROVIDER_ERROR},
    {"INTERNAL", LLMKIT_PROVIDER_ERROR},
};

bool contains_nocase(std::string_view text, std::string_view word) {
  if (word.size() > text.size()) return false;
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (strncasecmp(text.data() + i, word.data(), word.size()) == 0) return true;
  }
  return false;
}

// How providers say that a prompt does not fit the model's context.
bool context_too_long(std::string_view type, std::string_view message) {
  static constexpr std::string_view kPhrases[] = {"context_length_exceeded",
                                                  "maximum context length",
                                                  "context length",
                                                  "context window",
                                                  "prompt is too long",
                                                  "input is too long",
                                                  "exceeds the maximum number of tokens",
                                                  "too many tokens"};
  if (type == "context_length_exceeded") return true;
  return std::any_of(std::begin(kPhrases), std::end(kPhrases),
                     [&](std::string_view p) { return contains_nocase(message, p); });
}

std::int64_t parse_seconds_ms(std::string_view text) {
  double s = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), s);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !(s >= 0) || s > 1e9) {
    return -1;
  }
  // Rounded up by hand: std::ceil would pull libm into static links.
  const double ms = s * 1000;
  auto whole = static_cast<std::int64_t>(ms);
  return static_cast<double>(whole) < ms ? whole + 1 : whole;
}

}  // namespace

llmkit_status status_for_type(std::string_view type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t.status;
  }
  return LLMKIT_PROVIDER_ERROR;
}

llmkit_status status_for_http(int http_status) {
  switch (http_status) {
    case 429:
      return LLMKIT_RATE_LIMITED;
    case 401:
    case 403:
      return LLMKIT_AUTH;
    case 400:
    case 413:
    case 422:
      return LLMKIT_INVALID_ARGUMENT;
    case 404:
      return LLMKIT_NOT_FOUND;
    case 503:
    case 529:
      return LLMKIT_OVERLOADED;
    case 408:
    case 504:
      return LLMKIT_TIMEOUT;
    default:
      return LLMKIT_PROVIDER_ERROR;
  }
}

void set_provider_error(Response& r, std::string_view type, std::string_view message) {
  const llmkit_status status = status_for_type(type);
  std::string_view detail;
  if (context_too_long(type, message)) {
    detail = "context_length_exceeded";
  } else if (status == LLMKIT_OVERLOADED) {
    detail = "overloaded";
  }
  set_error(r, status, message.empty() ? std::string_view(type) : message, detail);
}

void apply_http_status(Response& r, int http_status, const http::Headers& headers,
                       std::int64_t now_s) {
  r.http_status = http_status;
  const llmkit_status status = status_for_http(http_status);
  if (r.status == LLMKIT_OK) {
    set_error(r, status, "HTTP " + std::to_string(http_status));
  } else {
    r.status = status;
  }
  if (status == LLMKIT_OVERLOADED && r.detail.empty()) r.detail = make_string("overloaded");
  if (status != LLMKIT_INVALID_ARGUMENT && r.detail == "context_length_exceeded") r.detail.clear();
  if (const auto ms = headers.find("retry-after-ms"); !ms.empty()) {
    if (const std::int64_t v = parse_seconds_ms(ms); v >= 0) {
      r.retry_after_ms = (v + 999) / 1000;
      return;
    }
  }
  const std::string_view after = headers.find("retry-after");
  if (after.empty()) return;
  if (const std::int64_t v = parse_seconds_ms(after); v >= 0) {
    r.retry_after_ms = v;
    return;
  }
  // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
  struct tm tm = {};
  const std::string text(after);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return;
  const std::int64_t at = timegm(&tm);
  r.retry_after_ms = std::max<std::int64_t>(0, (at - now_s) * 1000);
}

std::int64_t duration_ms(std::string_view text) {
  if (text.empty() || text.back() != 's') return -1;
  return parse_seconds_ms(text.substr(0, text.size() - 1));
}

}  // namespace llmkit::providers
