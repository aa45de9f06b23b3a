// The pipeline's cost per call: a client with ten hooks behind rules (four
// before, three after, two error, one finally; the call's tags and metadata
// chosen so that most rules match), against the same client with none
// ("/baseline"), both calling a local nginx serving a recorded Chat
// Completions body. Retries and the breaker are on in both (their cost on
// a success is one lookup). Target: at most 5 µs more CPU per call
// (cpu_us_per_req); the time ratio is printed by bench/main.cpp. A CPU
// difference of a few µs is within the noise of a network call, so
// "pipeline/hook_rounds" also times the hooks' own work alone: the before,
// after and finally rounds of one call over the same ten hooks (C++
// functions: the C trampoline adds one indirect call each).
// "pipeline/full" adds every other stage: a cache miss (and store), a
// caller limit, and the router over two deployments (pipeline_clients.h).
// Its CPU time moves with the machine's load by more than the stages cost,
// so bench/pipeline_instructions.sh also counts the instructions of the
// same calls under callgrind (11.2k added to the bare call's 95k to 97k),
// and pipeline_calls.cpp's "paired" times the stages' CPU call by call
// (7.2 to 10.6 µs added, docs/routing.md).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "chat_support.h"
#include "hooks/registry.h"
#include "llmkit.h"
#include "pipeline_clients.h"

namespace {

using llmkit::bench::must;
using llmkit::bench::new_client;
using llmkit::bench::ten_hooks;

// Calls `model` through `client`. With `fresh`, each request differs (its
// seed), so that a client's cache misses every time and stores the answer.
void run(benchmark::State& state, llmkit_client* client, const char* model = "gpt-4o-mini",
         bool fresh = false) {
  llmkit::bench::PipelineCall call(model);
  {
    llmkit::bench::CpuCounter cpu(state);
    for (auto _ : state) {
      if (call.once(client, fresh) != LLMKIT_OK) {
        state.SkipWithError(llmkit_last_error());
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void with_hooks(benchmark::State& state) {
  static llmkit_client* client = [] {
    llmkit_client* c = new_client();
    llmkit_hooks* h = ten_hooks();
    llmkit_client_set_hooks(c, h);
    llmkit_hooks_free(h);  // the client keeps them
    return c;
  }();
  run(state, client);
}

void bare(benchmark::State& state) {
  static llmkit_client* client = new_client();
  run(state, client);
}

void full(benchmark::State& state) {
  static llmkit_client* client = llmkit::bench::full_client();
  run(state, client, "chat", true);
}

void full_baseline(benchmark::State& state) {
  static llmkit_client* client = new_client();
  run(state, client, "gpt-4o-mini", true);
}

// The three rounds of one successful call, as Pipeline::chat runs them.
void rounds(benchmark::State& state, llmkit::hooks::Registry& registry) {
  using llmkit::make_string;
  using llmkit::hooks::Kind;
  llmkit::providers::ChatRequest request;
  request.model = make_string("gpt-4o-mini");
  llmkit::providers::add_message(request, "user", "Say hello.");
  llmkit::providers::Response response;
  response.text = make_string("Hello!");
  const std::vector<llmkit::String> scopes{make_string("production")};
  for (auto _ : state) {
    llmkit::hooks::Event e;
    e.provider = make_string("openai");
    e.tags = llmkit::hooks::split_list("prod,beta");
    e.metadata.emplace_back(make_string("team"), make_string("search"));
    e.request = &request;
    llmkit::providers::ChatRequest own;  // copied only if a before hook changes it
    bool copied = false;
    if (registry.any(Kind::kBefore, scopes)) {
      e.allow_edits(&own, &copied);
      e.kind = Kind::kBefore;
      registry.run(e, scopes);
      e.allow_edits(nullptr, nullptr);
    }
    e.response = &response;
    e.kind = Kind::kAfter;
    registry.run(e, scopes);
    e.kind = Kind::kFinally;
    registry.run(e, scopes);
    benchmark::DoNotOptimize(e);
  }
}

void hook_rounds(benchmark::State& state) {
  static llmkit::hooks::Registry registry;
  static const bool added = [] {
    const auto touch = [](llmkit::hooks::Event& e) {
      benchmark::DoNotOptimize(e.model());
      return LLMKIT_OK;
    };
    using llmkit::hooks::Kind;
    registry.add(Kind::kBefore, "", "model:gpt-4o*", touch, false);
    registry.add(Kind::kBefore, "production", "tag:prod and meta.team:search", touch, false);
    registry.add(Kind::kBefore, "", "provider:openai or provider:anthropic", touch, false);
    registry.add(Kind::kBefore, "", "not tag:test", touch, false);
    registry.add(Kind::kAfter, "", "status:ok", touch, false);
    registry.add(Kind::kAfter, "", "model:claude-*", touch, false);
    registry.add(Kind::kAfter, "production", "anytag:prod,beta", touch, false);
    registry.add(Kind::kError, "", "status:rate_limited", touch, false);
    registry.add(Kind::kError, "", "", touch, false);
    registry.add(Kind::kFinally, "", "", touch, false);
    return true;
  }();
  benchmark::DoNotOptimize(added);
  rounds(state, registry);
}

void no_hook_rounds(benchmark::State& state) {
  static llmkit::hooks::Registry registry;
  rounds(state, registry);
}

BENCHMARK(hook_rounds)->Name("pipeline/hook_rounds");
BENCHMARK(no_hook_rounds)->Name("pipeline/hook_rounds/baseline");
BENCHMARK(with_hooks)->Name("pipeline/hooks")->UseRealTime()->Repetitions(5);
BENCHMARK(bare)->Name("pipeline/hooks/baseline")->UseRealTime()->Repetitions(5);
BENCHMARK(full)->Name("pipeline/full")->UseRealTime()->Repetitions(5);
BENCHMARK(full_baseline)->Name("pipeline/full/baseline")->UseRealTime()->Repetitions(5);

}  // namespace
