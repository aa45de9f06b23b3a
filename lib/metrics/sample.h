// One finished call in figures: what the pipeline's end of call
// (Pipeline::conclude) works out once, and both the trace record and the
// metrics registry read. A trace row read back gives the same figures, so
// that an exporter over the traces table counts as a client does.
#pragma once

#include <cstdint>
#include <string_view>

#include "llmkit.h"

namespace llmkit::metrics {

// How the client's response cache took part in the call.
enum class CacheUse : std::uint8_t { kNone, kHit, kMiss };

struct Sample {
  std::string_view operation = "chat";  // gen_ai.operation.name
  std::string_view model;               // requested (after before hooks)
  std::string_view provider;            // that answered, or would have
  std::string_view deployment;          // that answered; "" for none
  llmkit_status status = LLMKIT_OK;
  std::int64_t latency_us = 0;
  std::int64_t ttft_us = -1;  // -1: no streamed token
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cache_read_tokens = 0;
  std::int64_t cache_creation_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  double cost_usd = 0;  // 0 without a price or an answer
  int retries = 0;
  bool fallback = false;
  CacheUse cache = CacheUse::kNone;
  bool limited = false;  // refused by the client's rate limiter
};

}  // namespace llmkit::metrics
