// Everything a client's metrics, stats and health read, gathered at the
// moment they are asked for: its calls' registry, and the live figures of
// the parts it holds (breakers, hooks, trace writer, cache, limiter,
// budgets). Reading these costs the calls nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "budget/budgets.h"
#include "cache/cache.h"
#include "core/alloc.h"
#include "hooks/registry.h"
#include "metrics/registry.h"
#include "ratelimit/limiter.h"
#include "route/breaker.h"
#include "trace/writer.h"

namespace llmkit::metrics {

struct BreakerView {
  String deployment;
  route::Breaker::Stats stats;
};

struct View {
  bool live = true;                 // a client's own; false: figures read back from a traces table
  const Registry* calls = nullptr;  // null: the client counts no calls ("metrics" false)
  std::vector<BreakerView> breakers;
  std::vector<hooks::Stats> hooks;  // the attached set's, shared by every client it is on
  std::optional<trace::WriterStats> trace;
  std::optional<cache::Stats> cache;  // the attached cache's, shared likewise
  std::optional<ratelimit::Counters> limiter;
  std::optional<budget::Budgets::Stats> budget;
};

// Sums over every series of a registry.
struct Totals {
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t limited = 0;
};
Totals totals_of(const Registry& r);

enum class Health : std::uint8_t { kOk = 0, kDegraded = 1, kUnhealthy = 2 };
std::string_view health_name(Health h);

struct HealthReport {
  Health state = Health::kOk;
  std::vector<std::string> reasons;  // one sentence each; none when ok
};
// Unhealthy: every breaker the client has is open (no deployment takes
// calls). Degraded: some breaker is open or probing, or the trace writer's
// last write failed. docs/metrics.md.
HealthReport health_of(const View& v);

struct Recommendation {
  std::string_view code;  // a stable word: low_cache_hit_rate, slow_hook, ...
  std::string message;
};
// What the figures suggest changing; docs/metrics.md lists each rule.
std::vector<Recommendation> recommend(const View& v);

}  // namespace llmkit::metrics
