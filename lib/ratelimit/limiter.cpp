#include "ratelimit/limiter.h"

#include <atomic>
#include <chrono>
#include <climits>
#include <string>
#include <thread>

#include "core/error.h"
#include "options/options.h"

namespace llmkit::ratelimit {

std::int64_t Limiter::monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Config Limiter::config_from(const Options& o) {
  auto non_negative = [&](std::string_view key, std::int64_t fallback) {
    const std::int64_t v = o.get_int(key).value_or(fallback);
    if (v < 0) fail(LLMKIT_INVALID_ARGUMENT, "option '" + std::string(key) + "' must be >= 0");
    return v;
  };
  const std::int64_t window_s = non_negative("window", 60);
  if (window_s == 0 || window_s > 366LL * 24 * 3600) {
    fail(LLMKIT_INVALID_ARGUMENT, "option 'window' must be 1 second to 1 year");
  }
  const std::int64_t window_ns = window_s * 1'000'000'000LL;
  const std::int64_t requests = non_negative("requests", 0);
  const std::int64_t tokens = non_negative("tokens", 0);
  // A limit above one unit a nanosecond cannot be represented (and is no limit).
  if (requests > window_ns || tokens > window_ns) {
    fail(LLMKIT_INVALID_ARGUMENT, "a limit may not exceed one unit per nanosecond of the window");
  }
  Config c;
  c.requests = Rate::per_window(requests, window_ns, non_negative("burst_requests", requests));
  c.tokens = Rate::per_window(tokens, window_ns, non_negative("burst_tokens", tokens));
  for (const auto& [rate, name] :
       {std::pair{c.requests, "burst_requests"}, std::pair{c.tokens, "burst_tokens"}}) {
    if (!rate.unlimited() && rate.burst > kMaxTolerance / rate.interval_ns) {
      fail(LLMKIT_INVALID_ARGUMENT, std::string("option '") + name +
                                        "' is too large: the burst would take more than 36 years "
                                        "to refill");
    }
  }
  c.concurrency = non_negative("concurrency", 0);
  if (c.concurrency > INT32_MAX) {  // a key's in-flight count is 32 bits (entry.h)
    fail(LLMKIT_INVALID_ARGUMENT, "option 'concurrency' must be at most 2147483647");
  }
  if (c.requests.unlimited() && c.tokens.unlimited() && c.concurrency == 0) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "the rate limiter needs at least one of 'requests', 'tokens' or 'concurrency'");
  }
  return c;
}

Limiter::Limiter(std::unique_ptr<Store> store, Clock clock)
    : store_(std::move(store)), clock_(clock) {}

Limiter::~Limiter() = default;

Decision Limiter::check(std::string_view key, std::int64_t tokens) {
  if (tokens < 0) fail(LLMKIT_INVALID_ARGUMENT, "tokens must be >= 0");
  const Decision d = store_->admit(key, tokens, clock_());
  (d.allowed ? allowed_ : limited_).fetch_add(1, std::memory_order_relaxed);
  return d;
}

void Limiter::acquire(std::string_view key, std::int64_t tokens, std::int64_t timeout_ns,
                      const Cancel* cancel) {
  const std::int64_t deadline_ns = clock_() + timeout_ns;
  // Concurrency refusals carry no time (a slot frees when its holder
  // releases, in this process or another), so those waits poll, backing
  // off from 0.1 ms to 10 ms.
  std::int64_t poll_ns = 100'000;
  for (;;) {
    if (cancel != nullptr && cancel->triggered())
      fail(LLMKIT_CANCELLED, "cancelled while waiting for the rate limiter");
    const Decision d = check(key, tokens);
    if (d.allowed) return;
    if (d.retry_after_ns < 0) {
      fail(LLMKIT_RATE_LIMITED,
           "the request can never fit: " + std::to_string(tokens) + " tokens exceed the burst");
    }
    std::int64_t wait = d.retry_after_ns;
    const std::int64_t left = deadline_ns - clock_();
    if (d.by == LimitedBy::kConcurrency) {
      // A slot may free at any moment: poll up to the deadline itself.
      if (left <= 0) fail(LLMKIT_TIMEOUT, "no concurrency slot freed before the deadline");
      wait = std::min(poll_ns, left);
      poll_ns = std::min<std::int64_t>(poll_ns * 2, 10'000'000);
    } else if (wait > left) {
      fail(LLMKIT_TIMEOUT, "the rate limiter would admit this request only after the deadline");
    }
    if (cancel != nullptr) {
      if (cancel->wait_for(wait))
        fail(LLMKIT_CANCELLED, "cancelled while waiting for the rate limiter");
    } else {
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    }
  }
}

bool Limiter::release(std::string_view key) {
  return store_->release(key, clock_());
}

void Limiter::reconcile(std::string_view key, std::int64_t reserved, std::int64_t actual) {
  if (reserved < 0 || actual < 0) fail(LLMKIT_INVALID_ARGUMENT, "token counts must be >= 0");
  store_->adjust_tokens(key, actual - reserved, clock_());
}

Counters Limiter::counters() const {
  return {allowed_.load(std::memory_order_relaxed), limited_.load(std::memory_order_relaxed)};
}

}  // namespace llmkit::ratelimit
