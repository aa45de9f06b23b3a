// The cost of crossing the C boundary (handle check, guard, last-error
// reset) on a cheap call, against the same lookup on the core object.
#include <benchmark/benchmark.h>

#include "llmkit.h"
#include "options/options.h"

namespace {

void OptionsGet(benchmark::State& state) {
  llmkit_options* o = nullptr;
  llmkit_options_new(&o);
  llmkit_options_set(o, "model", "gpt-4o-mini");
  const char* v = nullptr;
  for (auto _ : state) {
    benchmark::DoNotOptimize(llmkit_options_get(o, "model", &v));
    benchmark::DoNotOptimize(v);
  }
  llmkit_options_free(o);
}

void OptionsGetBaseline(benchmark::State& state) {
  llmkit::Options o;
  o.set("model", "gpt-4o-mini");
  for (auto _ : state) benchmark::DoNotOptimize(o.find("model"));
}

}  // namespace

BENCHMARK(OptionsGet)->Name("c_api/options_get");
BENCHMARK(OptionsGetBaseline)->Name("c_api/options_get/baseline");
