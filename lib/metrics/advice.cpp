// The health and the recommendations read from a View (view.h).
#include <cstdio>
#include <string>

#include "core/utf8.h"
#include "metrics/view.h"

namespace llmkit::metrics {
namespace {

// The thresholds of docs/metrics.md.
constexpr std::uint64_t kMinLookups = 20;     // before a hit rate means anything
constexpr double kLowHitRate = 0.10;          // below: the cache rarely pays
constexpr std::int64_t kSlowHookUs = 10'000;  // a synchronous hook's mean run
constexpr std::int64_t kFlapOpens = 3;        // opens within Breaker::kRecentMs

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

Totals totals_of(const Registry& r) {
  Totals t;
  r.for_each([&](const Series& s) {
    const std::uint64_t n = s.total_calls();
    t.calls += n;
    t.errors += n - s.calls[LLMKIT_OK].load(std::memory_order_relaxed);
    t.cache_hits += s.cache_hits.load(std::memory_order_relaxed);
    t.cache_misses += s.cache_misses.load(std::memory_order_relaxed);
    t.limited += s.limited.load(std::memory_order_relaxed);
  });
  return t;
}

std::string_view health_name(Health h) {
  switch (h) {
    case Health::kDegraded:
      return "degraded";
    case Health::kUnhealthy:
      return "unhealthy";
    case Health::kOk:
      break;
  }
  return "ok";
}

HealthReport health_of(const View& v) {
  HealthReport h;
  std::size_t open = 0;
  for (const BreakerView& b : v.breakers) {
    if (b.stats.state == route::Breaker::State::kClosed) continue;
    const bool probing = b.stats.state == route::Breaker::State::kHalfOpen;
    open += probing ? 0 : 1;
    h.reasons.push_back("the circuit breaker of " + utf8::quote(b.deployment) + " is " +
                        (probing ? "half-open (probing)" : "open"));
  }
  if (v.trace && v.trace->failing) {
    h.reasons.push_back("trace writes are failing (" + std::to_string(v.trace->queued) +
                        " records queued): " + std::string(v.trace->last_error));
  }
  if (!h.reasons.empty()) h.state = Health::kDegraded;
  if (open > 0 && open == v.breakers.size()) {
    h.state = Health::kUnhealthy;
    h.reasons.insert(h.reasons.begin(), "every deployment's circuit breaker is open");
  }
  return h;
}

std::vector<Recommendation> recommend(const View& v) {
  std::vector<Recommendation> out;
  if (v.calls != nullptr) {
    const Totals t = totals_of(*v.calls);
    const std::uint64_t lookups = t.cache_hits + t.cache_misses;
    const double rate =
        lookups > 0 ? static_cast<double>(t.cache_hits) / static_cast<double>(lookups) : 0;
    if (lookups >= kMinLookups && rate < kLowHitRate) {
      out.push_back({"low_cache_hit_rate",
                     "the response cache answered " + fixed(rate * 100, 1) + "% of " +
                         std::to_string(lookups) +
                         " lookups: check \"cache.scope\" and the cache's \"temperature\" "
                         "policy, or detach it (every miss pays for a key and a store)"});
    }
    if (v.calls->overflowed() > 0) {
      out.push_back({"series_overflow", std::to_string(v.calls->overflowed()) +
                                            " calls were counted under \"_overflow\": more than " +
                                            std::to_string(v.calls->max_series()) +
                                            " label sets; raise \"metrics.max_series\" or name "
                                            "fewer models"});
    }
  }
  for (const hooks::Stats& h : v.hooks) {
    if (h.async || h.calls == 0) continue;
    const std::int64_t mean = h.total_us / static_cast<std::int64_t>(h.calls);
    if (mean > kSlowHookUs) {
      out.push_back({"slow_hook", "hook " + std::to_string(h.id) + " (" +
                                      std::string(hooks::kind_name(h.kind)) + ") takes " +
                                      fixed(static_cast<double>(mean) / 1000, 1) +
                                      " ms a run on average, on the call's thread: make it "
                                      "async (LLMKIT_HOOK_ASYNC) or faster"});
    }
  }
  for (const hooks::Stats& h : v.hooks) {
    if (h.dropped == 0) continue;
    out.push_back({"hook_events_dropped",
                   "hook " + std::to_string(h.id) + " lost " + std::to_string(h.dropped) +
                       " events to a full queue: raise the set's \"queue_size\" or make the "
                       "hook faster"});
  }
  for (const BreakerView& b : v.breakers) {
    if (b.stats.recent_opens < kFlapOpens) continue;
    out.push_back(
        {"flapping_breaker", "the circuit breaker of " + utf8::quote(b.deployment) + " opened " +
                                 std::to_string(b.stats.recent_opens) +
                                 " times in 10 minutes: the deployment fails on and off; check it, "
                                 "or raise \"breaker.open_ms\" so it is left alone longer"});
  }
  if (v.trace && v.trace->dropped > 0) {
    out.push_back({"trace_records_dropped",
                   std::to_string(v.trace->dropped) +
                       " trace records were dropped: raise \"trace.queue\", or set "
                       "\"trace.on_full\" to \"block\" if every record matters more than latency"});
  }
  if (v.budget && v.budget->unrecorded > 0) {
    out.push_back({"budget_costs_unrecorded",
                   std::to_string(v.budget->unrecorded) +
                       " call costs never reached the budget store: its spend is too low; "
                       "check \"budget.store\""});
  }
  return out;
}

}  // namespace llmkit::metrics
