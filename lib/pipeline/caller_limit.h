// A per-caller rate limit on a client's calls (docs/ratelimit.md, "With a
// client"): the call option "caller" names the key ("" for calls naming
// none). It sits after the cache, so that a cached answer spends nothing,
// and before the provider, which a refused call never reaches.
#pragma once

#include <cstdint>
#include <string_view>

#include "client/client.h"
#include "core/alloc.h"
#include "providers/request.h"
#include "ratelimit/limiter.h"

namespace llmkit::pipeline {

class CallerLimit {
 public:
  CallerLimit() = default;
  // Settles a call that never did (an exception on the way): its slot must
  // come back, or the caller would lose it for good.
  ~CallerLimit();
  CallerLimit(const CallerLimit&) = delete;
  CallerLimit& operator=(const CallerLimit&) = delete;

  // Admits the call to `limiter` (null: no limit) for its caller: one
  // request, a concurrency slot, and its estimated tokens (the input,
  // counted with the model's tokenizer when llmkit knows one, plus
  // max_tokens). With "ratelimit.wait_ms" > 0 it waits that long for
  // room, else a refusal is at once. Throws RATE_LIMITED naming the
  // caller, CANCELLED, or INVALID_ARGUMENT for a bad option.
  void admit(ratelimit::Limiter* limiter, const providers::ChatRequest& request,
             std::string_view model, const Options* call_options, const Cancel* cancel);

  // The end of an admitted call: its tokens become what the provider
  // reported (input + output); an answer without usage keeps the estimate
  // when it succeeded, and only the input estimate when it failed (the
  // prompt was sent; what max_tokens reserved was not used). Then the slot
  // is released. Once: later calls do nothing.
  void settle(const client::Result& result) noexcept;

  // Whether admit() refused the call.
  bool refused() const { return refused_; }

 private:
  ratelimit::Limiter* limiter_ = nullptr;  // set while admitted
  String caller_;
  std::int64_t input_ = 0;     // estimated input tokens
  std::int64_t reserved_ = 0;  // input_ plus max_tokens
  bool refused_ = false;
};

}  // namespace llmkit::pipeline
