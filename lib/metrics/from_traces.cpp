#include "metrics/from_traces.h"

#include <cmath>
#include <string_view>

#include "trace/aggregate.h"

namespace llmkit::metrics {
namespace {

// The traces table's status text ("ok", "RATE_LIMITED") as a status; one
// this version does not know (a newer writer's) counts as INTERNAL.
llmkit_status status_of(std::string_view text) {
  if (text == "ok") return LLMKIT_OK;
  for (std::size_t i = 1; i < kStatuses; ++i) {
    const auto s = static_cast<llmkit_status>(i);
    if (text == llmkit_status_str(s)) return s;
  }
  return LLMKIT_INTERNAL;
}

std::int64_t us_of(double ms) {
  return std::llround(ms * 1000.0);
}

}  // namespace

Unique<Registry> registry_from_traces(const trace::Target& target, std::size_t max_series) {
  Unique<Registry> r(create<Registry>(max_series));
  trace::for_each_record(target, [&](const trace::Record& t) {
    Sample s;
    s.operation = t.operation;
    s.model = t.request_model;
    s.provider = t.provider;
    if (t.deployment) s.deployment = *t.deployment;
    s.status = status_of(t.status);
    s.latency_us = us_of(t.latency_ms);
    if (t.ttft_ms) s.ttft_us = us_of(*t.ttft_ms);
    s.input_tokens = t.input_tokens;
    s.output_tokens = t.output_tokens;
    s.cache_read_tokens = t.cache_read_tokens;
    s.cache_creation_tokens = t.cache_creation_tokens;
    s.reasoning_tokens = t.reasoning_tokens;
    s.cost_usd = t.cost_usd;
    s.retries = t.retries;
    s.fallback = t.fallback;
    if (t.cache_hit) s.cache = CacheUse::kHit;
    r->record(s);
  });
  return r;
}

}  // namespace llmkit::metrics
