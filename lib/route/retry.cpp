#include "route/retry.h"

#include <algorithm>
#include <random>

namespace llmkit::route {

RetryPolicy RetryPolicy::from(const Options& options) {
  constexpr std::int64_t kDay = 86'400'000;
  RetryPolicy p;
  p.attempts = static_cast<int>(options.get_int("retry.attempts", p.attempts, 1, 100));
  p.base_ms = options.get_int("retry.base_ms", p.base_ms, 0, kDay);
  p.max_ms = options.get_int("retry.max_ms", p.max_ms, 0, kDay);
  return p;
}

bool retryable(llmkit_status status, int http_status) noexcept {
  switch (status) {
    case LLMKIT_RATE_LIMITED:
    case LLMKIT_OVERLOADED:
    case LLMKIT_NETWORK:
    case LLMKIT_TIMEOUT:
      return true;
    case LLMKIT_PROVIDER_ERROR:
      return http_status >= 500;  // not an answer llmkit could not read
    default:
      return false;
  }
}

std::int64_t backoff_ms(const RetryPolicy& policy, int n, std::int64_t retry_after_ms) {
  // 2^(n-1), saturating: past 2^40 any base is above any max.
  const std::int64_t factor = std::int64_t{1} << std::min(n - 1, 40);
  const std::int64_t ceiling = policy.base_ms > policy.max_ms / std::max<std::int64_t>(factor, 1)
                                   ? policy.max_ms
                                   : std::min(policy.max_ms, policy.base_ms * factor);
  thread_local std::minstd_rand rng{std::random_device{}()};
  const std::int64_t drawn = std::uniform_int_distribution<std::int64_t>(0, ceiling)(rng);
  return std::max(drawn, retry_after_ms);
}

}  // namespace llmkit::route
