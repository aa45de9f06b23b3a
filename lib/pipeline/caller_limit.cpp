#include "pipeline/caller_limit.h"

#include <string>
#include <utility>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenize/count.h"

namespace llmkit::pipeline {

namespace {

// OpenAI's counting recipe adds these per message and for the reply's
// priming (tokenize/count.cpp); other providers' overheads are alike.
constexpr std::int64_t kPerMessage = 3;
constexpr std::int64_t kReplyPriming = 3;
// Without a tokenizer for the model: the usual four bytes a token.
constexpr std::int64_t kBytesPerToken = 4;

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

std::int64_t CallerLimit::estimate_input(const providers::ChatRequest& request,
                                         std::string_view model) {
  // One text for one count: the pieces' boundaries move a count by a token
  // or two, well within what an estimate may be off. Images are not
  // counted: the provider's usage charges them when the call settles.
  String text = request.system;
  std::int64_t messages = request.system.empty() ? 0 : 1;
  for (const providers::Message& m : request.messages) {
    ++messages;
    for (const providers::Part& p : m.parts) (text += '\n') += p.text;
    for (const providers::ToolCall& c : m.tool_calls) ((text += '\n') += c.name) += c.arguments;
  }
  for (const providers::Tool& t : request.tools) {
    (((text += '\n') += t.name) += t.description) += t.parameters;
  }
  std::int64_t tokens = 0;
  try {
    tokens = static_cast<std::int64_t>(tokenize::estimate(model, text).count);
  } catch (const Error& e) {
    if (e.status() != LLMKIT_NOT_FOUND) throw;  // no tokenizer: estimate by size
    tokens = (static_cast<std::int64_t>(text.size()) + kBytesPerToken - 1) / kBytesPerToken;
  }
  return tokens + messages * kPerMessage + kReplyPriming;
}

void CallerLimit::admit(ratelimit::Limiter* limiter, const providers::ChatRequest& request,
                        std::string_view model, const Options* call_options, const Cancel* cancel) {
  if (limiter == nullptr) return;
  const std::string_view caller =
      call_options != nullptr ? call_options->get_string("caller", "") : std::string_view();
  const std::int64_t wait_ms =
      call_options != nullptr ? call_options->get_int("ratelimit.wait_ms", 0, 0, 1LL << 40) : 0;
  const std::int64_t input = estimate_input(request, model);
  const std::int64_t tokens = input + request.max_tokens.value_or(0);
  if (wait_ms == 0) {
    const ratelimit::Decision d = limiter->check(caller, tokens);
    if (!d.allowed) refuse(caller, d, tokens);
  } else {
    try {
      limiter->acquire(caller, tokens, wait_ms * 1'000'000, cancel);
    } catch (const Error& e) {
      if (e.status() != LLMKIT_TIMEOUT && e.status() != LLMKIT_RATE_LIMITED) throw;
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
