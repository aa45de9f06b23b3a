#include "metrics/registry.h"

#include <bit>
#include <cmath>
#include <functional>

namespace llmkit::metrics {
namespace {

std::size_t hash_of(const Sample& s) noexcept {
  const std::hash<std::string_view> h;
  std::size_t x = h(s.model);
  for (const std::string_view part : {s.provider, s.deployment, s.operation}) {
    x = (x ^ h(part)) * 0x9E3779B97F4A7C15ULL;
  }
  return x;
}

bool same(const Series& series, const Sample& s) noexcept {
  return series.model == s.model && series.provider == s.provider &&
         series.deployment == s.deployment && series.operation == s.operation;
}

void add(std::atomic<std::uint64_t>& counter, std::int64_t v) noexcept {
  if (v > 0) counter.fetch_add(static_cast<std::uint64_t>(v), std::memory_order_relaxed);
}

}  // namespace

Series::Series(std::string_view operation_, std::string_view model_, std::string_view provider_,
               std::string_view deployment_)
    : operation(make_string(operation_)),
      model(make_string(model_)),
      provider(make_string(provider_)),
      deployment(make_string(deployment_)) {}

std::uint64_t Series::total_calls() const {
  std::uint64_t n = 0;
  for (const auto& c : calls) n += c.load(std::memory_order_relaxed);
  return n;
}

Registry::Registry(std::size_t max_series)
    : max_series_(max_series),
      // At most half full, so that probes stay short.
      mask_(std::bit_ceil(2 * max_series + 2) - 1),
      slots_(mask_ + 1),
      overflow_(create<Series>(kOverflow, kOverflow, kOverflow, kOverflow)) {
  series_.reserve(max_series);
}

Registry::~Registry() = default;

Series* Registry::find_or_add(const Sample& s, std::size_t hash) noexcept {
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    Series* found = slots_[i].load(std::memory_order_acquire);
    if (found != nullptr) {
      if (same(*found, s)) return found;
      continue;
    }
    // A label set not seen yet: past the bound it goes to the overflow
    // series without a lock, so unbounded labels never contend.
    if (full_.load(std::memory_order_relaxed)) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    // Another thread may have added it, or others, meanwhile.
    for (;; i = (i + 1) & mask_) {
      found = slots_[i].load(std::memory_order_relaxed);
      if (found == nullptr) break;
      if (same(*found, s)) return found;
    }
    if (series_.size() == max_series_) {
      full_.store(true, std::memory_order_relaxed);
      return nullptr;
    }
    try {
      series_.emplace_back(create<Series>(s.operation, s.model, s.provider, s.deployment));
    } catch (...) {  // no memory for a series: the call counts as overflow
      return nullptr;
    }
    slots_[i].store(series_.back().get(), std::memory_order_release);
    return series_.back().get();
  }
}

void Registry::record(const Sample& s) noexcept {
  Series* series = find_or_add(s, hash_of(s));
  if (series == nullptr) {
    overflowed_.fetch_add(1, std::memory_order_relaxed);
    series = overflow_.get();
  }
  const auto status = static_cast<std::size_t>(s.status);
  const std::size_t slot = status < kStatuses ? status : std::size_t{LLMKIT_INTERNAL};
  series->calls[slot].fetch_add(1, std::memory_order_relaxed);
  series->duration.observe(s.latency_us);
  if (s.ttft_us >= 0) series->first_token.observe(s.ttft_us);
  if (s.input_tokens > 0 || s.output_tokens > 0) {
    series->input_tokens.observe(s.input_tokens);
    series->output_tokens.observe(s.output_tokens);
  }
  const std::int64_t tokens[kTokenTypes] = {s.input_tokens, s.output_tokens, s.cache_read_tokens,
                                            s.cache_creation_tokens, s.reasoning_tokens};
  for (std::size_t i = 0; i < kTokenTypes; ++i) add(series->tokens[i], tokens[i]);
  if (s.cost_usd > 0) add(series->cost_nano_usd, std::llround(s.cost_usd * 1e9));
  if (s.cache == CacheUse::kHit) series->cache_hits.fetch_add(1, std::memory_order_relaxed);
  if (s.cache == CacheUse::kMiss) series->cache_misses.fetch_add(1, std::memory_order_relaxed);
  if (s.limited) series->limited.fetch_add(1, std::memory_order_relaxed);
  add(series->retries, s.retries);
  if (s.fallback) series->fallbacks.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace llmkit::metrics
