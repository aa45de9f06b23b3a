#include "pipeline/caller_limit.h"

#include <string>
#include <utility>

#include "core/error.h"
#include "core/utf8.h"
#include "pipeline/estimate.h"

namespace llmkit::pipeline {

namespace {

const char* limit_name(ratelimit::LimitedBy by) {
  switch (by) {
    case ratelimit::LimitedBy::kRequests:
      return "requests per window";
    case ratelimit::LimitedBy::kTokens:
      return "tokens per window";
    case ratelimit::LimitedBy::kConcurrency:
      return "calls in flight";
    case ratelimit::LimitedBy::kNone:
      break;
  }
  return "limit";
}

[[noreturn]] void refuse(std::string_view caller, const ratelimit::Decision& d,
                         std::int64_t tokens) {
  std::string why =
      "caller " + utf8::quote(caller) + " is over its rate limit (" + limit_name(d.by) + "): ";
  if (d.retry_after_ns < 0) {
    why += "its " + std::to_string(tokens) + " estimated tokens can never fit";
  } else if (d.by == ratelimit::LimitedBy::kConcurrency) {
    why += "retry when one of its calls ends";
  } else {
    why += "retry after " + std::to_string((d.retry_after_ns + 999'999) / 1'000'000) + " ms";
  }
  fail(LLMKIT_RATE_LIMITED, why);
}

}  // namespace

void CallerLimit::admit(ratelimit::Limiter* limiter, const providers::ChatRequest& request,
                        std::string_view model, const Options* call_options, const Cancel* cancel) {
  if (limiter == nullptr) return;
  const std::string_view caller =
      call_options != nullptr ? call_options->get_string("caller", "") : std::string_view();
  const std::int64_t wait_ms =
      call_options != nullptr ? call_options->get_int("ratelimit.wait_ms", 0, 0, 1LL << 40) : 0;
  const std::int64_t input = estimate_input_tokens(request, model);
  const std::int64_t tokens = input + request.max_tokens.value_or(0);
  if (wait_ms == 0) {
    const ratelimit::Decision d = limiter->check(caller, tokens);
    refused_ = !d.allowed;
    if (refused_) refuse(caller, d, tokens);
  } else {
    try {
      limiter->acquire(caller, tokens, wait_ms * 1'000'000, cancel);
    } catch (const Error& e) {
      if (e.status() != LLMKIT_TIMEOUT && e.status() != LLMKIT_RATE_LIMITED) throw;
      refused_ = true;
      fail(LLMKIT_RATE_LIMITED, "caller " + utf8::quote(caller) + " is over its rate limit, " +
                                    "after waiting up to " + std::to_string(wait_ms) +
                                    " ms: " + e.what());
    }
  }
  caller_ = make_string(caller);
  input_ = input;
  reserved_ = tokens;
  limiter_ = limiter;
}

CallerLimit::~CallerLimit() {
  if (limiter_ == nullptr) return;
  client::Result never;
  never.status = LLMKIT_CANCELLED;
  settle(never);
}

void CallerLimit::settle(const client::Result& result) noexcept {
  ratelimit::Limiter* limiter = std::exchange(limiter_, nullptr);
  if (limiter == nullptr) return;
  const providers::Response* r = result.response.get();
  const std::int64_t used = r != nullptr ? r->usage.input + r->usage.output : 0;
  const std::int64_t actual = used > 0 ? used : result.status == LLMKIT_OK ? reserved_ : input_;
  try {
    limiter->reconcile(caller_, reserved_, actual);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a backend's failure: the estimate stands
  }
  try {
    limiter->release(caller_);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a backend's failure: its lease frees the slot
  }
}

}  // namespace llmkit::pipeline
