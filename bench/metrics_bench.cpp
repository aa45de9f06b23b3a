// What counting one call costs (lib/metrics/registry.h, the hot path of
// Pipeline::conclude): metrics/record builds a finished call's Sample and
// counts it into a registry holding a few series, against metrics/baseline,
// which builds the same Sample and counts nothing, in the same run. The
// difference is the per-call cost; /threads:2 counts into the same series
// from two threads at once, where the atomics contend.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "metrics/registry.h"

namespace {

constexpr std::array<std::string_view, 4> kModels = {"gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5",
                                                     "gemini-2.5-flash"};

// A finished call, different every time as real ones are: the model, the
// latency, the tokens and the status move.
llmkit::metrics::Sample sample_of(std::uint64_t i) {
  llmkit::metrics::Sample s;
  s.model = kModels[i % kModels.size()];
  s.provider = "openai";
  s.deployment = s.model;
  s.status = i % 17 == 0 ? LLMKIT_RATE_LIMITED : LLMKIT_OK;
  s.latency_us = static_cast<std::int64_t>(50'000 + (i * 7919) % 2'000'000);
  s.ttft_us = i % 2 == 0 ? static_cast<std::int64_t>(20'000 + (i * 31) % 400'000) : -1;
  s.input_tokens = static_cast<std::int64_t>(200 + i % 3000);
  s.output_tokens = static_cast<std::int64_t>(50 + i % 700);
  s.cache_read_tokens = s.input_tokens / 4;
  s.cost_usd = 0.000125 * static_cast<double>(i % 9 + 1);
  s.cache = i % 3 == 0 ? llmkit::metrics::CacheUse::kHit : llmkit::metrics::CacheUse::kMiss;
  return s;
}

llmkit::metrics::Registry& shared_registry() {
  static llmkit::metrics::Registry r;
  return r;
}

void BM_Baseline(benchmark::State& state) {
  std::uint64_t i = static_cast<std::uint64_t>(state.thread_index()) * 1'000'003;
  for (auto _ : state) {
    llmkit::metrics::Sample s = sample_of(i++);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Record(benchmark::State& state) {
  llmkit::metrics::Registry& r = shared_registry();
  std::uint64_t i = static_cast<std::uint64_t>(state.thread_index()) * 1'000'003;
  for (auto _ : state) {
    llmkit::metrics::Sample s = sample_of(i++);
    benchmark::DoNotOptimize(s);
    r.record(s);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Baseline)->Name("metrics/baseline")->Threads(1)->Threads(2);
BENCHMARK(BM_Record)->Name("metrics/record")->Threads(1)->Threads(2);

}  // namespace
