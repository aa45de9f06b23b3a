// A fixed-bucket histogram of integer observations (microseconds, tokens):
// one relaxed atomic add for the bucket and one for the sum, so recording
// never locks. Bounds are the OpenTelemetry GenAI conventions' advice.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>

namespace llmkit::metrics {

// Upper bounds, inclusive, in the histogram's unit; at most kMaxBounds.
inline constexpr std::size_t kMaxBounds = 16;

// gen_ai.client.operation.duration's, in microseconds (0.01 s to 81.92 s).
inline constexpr std::int64_t kDurationBoundsUs[] = {
    10'000,    20'000,    40'000,    80'000,     160'000,    320'000,    640'000,
    1'280'000, 2'560'000, 5'120'000, 10'240'000, 20'480'000, 40'960'000, 81'920'000};
// gen_ai.server.time_to_first_token's, in microseconds (1 ms to 10 s).
inline constexpr std::int64_t kFirstTokenBoundsUs[] = {
    1'000,   5'000,   10'000,  20'000,    40'000,    60'000,    80'000,    100'000,
    250'000, 500'000, 750'000, 1'000'000, 2'500'000, 5'000'000, 7'500'000, 10'000'000};
// gen_ai.client.token.usage's, in tokens (powers of 4).
inline constexpr std::int64_t kTokenBounds[] = {
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};

class Histogram {
 public:
  explicit Histogram(std::span<const std::int64_t> bounds) : bounds_(bounds) {}

  // Hot path (bench/metrics_bench.cpp): a scan of at most 16 bounds and two adds.
  void observe(std::int64_t v) noexcept {
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
  }

  std::span<const std::int64_t> bounds() const { return bounds_; }
  // Observations in bucket `i` alone (not cumulative); bounds().size() is +Inf.
  std::uint64_t count(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  std::int64_t sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t total() const {
    std::uint64_t n = 0;
    for (const auto& c : counts_) n += c.load(std::memory_order_relaxed);
    return n;
  }

 private:
  std::span<const std::int64_t> bounds_;
  std::array<std::atomic<std::uint64_t>, kMaxBounds + 1> counts_{};
  std::atomic<std::int64_t> sum_{0};
};

}  // namespace llmkit::metrics
