// Which deployment of a group takes a call: a traffic split first (a
// percentage of calls, sticky per key, for a gradual rollout), then the
// client's strategy among the rest: weighted at random, least in flight,
// or lowest latency (docs/routing.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>

#include "options/options.h"

namespace llmkit::route {

enum class Strategy { kWeighted, kLeastInFlight, kLatency };

// "route.strategy": "weighted" (the default), "least_inflight" or
// "latency"; INVALID_ARGUMENT for another.
Strategy strategy_of(const Options& options);

// The live figures of one deployment. Thread safety: any thread.
class Load {
 public:
  void begin() noexcept { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  // `latency_us` of an answer (< 0: none came) joins the moving average.
  void end(std::int64_t latency_us) noexcept;

  std::int64_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  // Exponentially weighted moving average of answers' latency; -1 before
  // the first.
  std::int64_t latency_us() const noexcept { return latency_us_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> latency_us_{-1};
};

struct Candidate {
  std::int64_t weight = 1;
  double split = 0;  // percent of the group's calls; 0: none
  const Load* load = nullptr;
  bool usable = true;  // false: its circuit is open, or it already failed this call
};

// The index of the candidate to use, or none when none is usable.
// `sticky` in [0, 1) places the call in the split (a hash of the call's
// key, so one key stays on one side); `draw` in [0, 1) breaks ties and
// picks by weight.
std::optional<std::size_t> pick(std::span<const Candidate> candidates, Strategy strategy,
                                double sticky, double draw);

// A key's place in [0, 1), the same in every process and version: XXH3
// of the group and the key.
double sticky_point(std::string_view group, std::string_view key) noexcept;
// A uniform draw in [0, 1) from a per-thread generator.
double random_point() noexcept;

}  // namespace llmkit::route
