// When and after how long a failed provider call is tried again:
// exponential backoff with full jitter, never sooner than the provider's
// Retry-After, only for failures that another try can cure.
#pragma once

#include <cstdint>

#include "llmkit.h"
#include "options/options.h"

namespace llmkit::route {

struct RetryPolicy {
  int attempts = 3;              // "retry.attempts": tries in all; 1: none again
  std::int64_t base_ms = 500;    // "retry.base_ms": the first backoff's ceiling
  std::int64_t max_ms = 30'000;  // "retry.max_ms": no backoff is longer

  // From the client's options; INVALID_ARGUMENT naming a bad value.
  static RetryPolicy from(const Options& options);
};

// Rate limited, overloaded, a 5xx, the network, a timeout: what a later try
// may not meet again. A 4xx, a cancel or a bad request never.
bool retryable(llmkit_status status, int http_status) noexcept;

// The wait before retry `n` (1: the first): a uniform draw from
// [0, min(max_ms, base_ms * 2^(n-1))] ("full jitter", so that callers that
// failed together do not come back together), raised to `retry_after_ms`
// when the provider gave one (>= 0).
std::int64_t backoff_ms(const RetryPolicy& policy, int n, std::int64_t retry_after_ms);

}  // namespace llmkit::route
