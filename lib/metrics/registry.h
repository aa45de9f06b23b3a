// A client's call metrics: one series per operation, requested model,
// provider and deployment, each with its counters and histograms. Label
// sets are bounded: past `max_series` a new combination is counted in one
// overflow series (every label "_overflow") and in overflowed(), so that a
// caller sending arbitrary model names cannot grow the registry.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "core/alloc.h"
#include "metrics/histogram.h"
#include "metrics/sample.h"

namespace llmkit::metrics {

// The statuses a call can end with, LLMKIT_OK first.
inline constexpr std::size_t kStatuses = LLMKIT_OVERLOADED + 1;

// The kinds of tokens counted, in Sample's order.
enum TokenType : std::uint8_t {
  kInput,
  kOutput,
  kCacheRead,
  kCacheCreation,
  kReasoning,
  kTokenTypes
};

struct Series {
  Series(std::string_view operation, std::string_view model, std::string_view provider,
         std::string_view deployment);

  String operation, model, provider, deployment;
  std::array<std::atomic<std::uint64_t>, kStatuses> calls{};  // by status
  Histogram duration{kDurationBoundsUs};
  Histogram first_token{kFirstTokenBoundsUs};
  Histogram input_tokens{kTokenBounds};  // per call with usage
  Histogram output_tokens{kTokenBounds};
  std::array<std::atomic<std::uint64_t>, kTokenTypes> tokens{};
  std::atomic<std::uint64_t> cost_nano_usd{0};  // an integer, so adds are exact
  std::atomic<std::uint64_t> cache_hits{0}, cache_misses{0}, limited{0}, retries{0}, fallbacks{0};

  std::uint64_t total_calls() const;
};

class Registry {
 public:
  static constexpr std::size_t kDefaultMaxSeries = 256;
  static constexpr std::string_view kOverflow = "_overflow";

  explicit Registry(std::size_t max_series = kDefaultMaxSeries);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Counts one call. Lock-free once its series exists (the first call of a
  // label set takes a mutex to make it). Hot path: bench/metrics_bench.cpp.
  void record(const Sample& s) noexcept;

  // Calls `fn(const Series&)` for every series, in order of first use, the
  // overflow series last when it was used. Holds the registry's mutex.
  template <class F>
  void for_each(F&& fn) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Unique<Series>& s : series_) fn(*s);
    if (overflow_->total_calls() > 0) fn(*overflow_);
  }
  // Calls that went to the overflow series.
  std::uint64_t overflowed() const { return overflowed_.load(std::memory_order_relaxed); }
  std::size_t max_series() const { return max_series_; }

 private:
  Series* find_or_add(const Sample& s, std::size_t hash) noexcept;

  const std::size_t max_series_;
  const std::size_t mask_;  // slots_ has mask_ + 1 entries, a power of two
  // Open addressing over the series, filled in under mutex_ and never
  // emptied: a reader that sees a pointer sees its series made.
  Vector<std::atomic<Series*>> slots_;
  Vector<Unique<Series>> series_;  // in order of first use; guarded by mutex_
  std::atomic<bool> full_{false};
  Unique<Series> overflow_;
  std::atomic<std::uint64_t> overflowed_{0};
  mutable std::mutex mutex_;
};

}  // namespace llmkit::metrics
