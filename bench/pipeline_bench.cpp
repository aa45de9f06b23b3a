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
// caller limit, and the router over two deployments; measured on the
// 2-core machine (RelWithDebInfo, 5 interleaved repetitions, medians):
// 93.8 µs of CPU per call against 63.1 µs for the bare call, 1.17x the
// time. The 5 µs target is not met there yet.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "chat_support.h"
#include "hooks/registry.h"
#include "llmkit.h"

namespace {

using llmkit::bench::nginx;

// A set-up step that must work: the bench means nothing otherwise.
void must(llmkit_status status) {
  if (status == LLMKIT_OK) return;
  std::fprintf(stderr, "pipeline bench set-up: %s\n", llmkit_last_error());
  std::abort();
}

llmkit_client* new_client() {
  llmkit_options* o = nullptr;
  llmkit_options_new(&o);
  llmkit_options_set(o, "provider", "openai");
  llmkit_options_set(o, "base_url", nginx().url("/v1").c_str());
  llmkit_options_set(o, "api_key", "sk-bench");
  llmkit_options_set(o, "scopes", "production");
  llmkit_client* c = nullptr;
  must(llmkit_client_new(o, &c));
  llmkit_options_free(o);
  return c;
}

llmkit_status touch(llmkit_hook_event* e, void*) {
  const char* model = nullptr;
  llmkit_hook_event_get(e, "model", &model, nullptr);
  benchmark::DoNotOptimize(model);
  return LLMKIT_OK;
}

llmkit_hooks* ten_hooks() {
  llmkit_hooks* h = nullptr;
  must(llmkit_hooks_new(nullptr, &h));
  struct Spec {
    llmkit_hook_kind kind;
    const char* scope;
    const char* rule;
  };
  static const Spec kSpecs[] = {
      {LLMKIT_HOOK_BEFORE, nullptr, "model:gpt-4o*"},
      {LLMKIT_HOOK_BEFORE, "production", "tag:prod and meta.team:search"},
      {LLMKIT_HOOK_BEFORE, nullptr, "provider:openai or provider:anthropic"},
      {LLMKIT_HOOK_BEFORE, nullptr, "not tag:test"},
      {LLMKIT_HOOK_AFTER, nullptr, "status:ok"},
      {LLMKIT_HOOK_AFTER, nullptr, "model:claude-*"},
      {LLMKIT_HOOK_AFTER, "production", "anytag:prod,beta"},
      {LLMKIT_HOOK_ERROR, nullptr, "status:rate_limited"},
      {LLMKIT_HOOK_ERROR, nullptr, nullptr},
      {LLMKIT_HOOK_FINALLY, nullptr, nullptr},
  };
  for (const Spec& s : kSpecs) {
    must(llmkit_hooks_add(h, s.kind, s.scope, s.rule, 0, touch, nullptr, nullptr));
  }
  return h;
}

// Calls `model` through `client`. With `fresh`, each request differs (its
// seed), so that a client's cache misses every time and stores the answer.
void run(benchmark::State& state, llmkit_client* client, const char* model = "gpt-4o-mini",
         bool fresh = false) {
  llmkit_request* req = nullptr;
  llmkit_request_new(&req);
  llmkit_request_set(req, "model", model);
  llmkit_request_add_message(req, "user", "Say hello.");
  llmkit_options* call = nullptr;
  llmkit_options_new(&call);
  llmkit_options_set(call, "tags", "prod,beta");
  llmkit_options_set(call, "meta.team", "search");
  llmkit_options_set(call, "caller", "bench");
  static std::int64_t seed = 0;  // never the same twice, across repetitions too
  {
    llmkit::bench::CpuCounter cpu(state);
    for (auto _ : state) {
      if (fresh) llmkit_request_set(req, "seed", std::to_string(++seed).c_str());
      llmkit_response* res = nullptr;
      if (llmkit_client_chat(client, req, call, nullptr, nullptr, nullptr, &res) != LLMKIT_OK) {
        state.SkipWithError(llmkit_last_error());
        break;
      }
      llmkit_response_free(res);
    }
  }
  llmkit_options_free(call);
  llmkit_request_free(req);
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

// Every stage: the ten hooks, a cache that misses (and stores), a caller
// limit that admits, and the router choosing between two deployments of
// one group (with a fallback rule) for each call.
void full(benchmark::State& state) {
  static llmkit_client* client = [] {
    const std::string base = nginx().url("/v1");
    const std::string deployment =
        R"(, "provider": "openai", "base_url": ")" + base +
        R"(", "api_key": "sk-bench", "model": "gpt-4o-mini", "group": "chat"})";
    llmkit_options* o = nullptr;
    llmkit_options_new(&o);
    llmkit_options_set(
        o, "deployments",
        ("[{\"name\": \"a\"" + deployment + ", {\"name\": \"b\"" + deployment + "]").c_str());
    llmkit_options_set(o, "fallbacks", R"([{"from": "chat", "to": ["gpt-4o-mini"]}])");
    llmkit_options_set(o, "provider", "openai");
    llmkit_options_set(o, "base_url", base.c_str());
    llmkit_options_set(o, "api_key", "sk-bench");
    llmkit_options_set(o, "scopes", "production");
    llmkit_client* c = nullptr;
    llmkit_cache* cache = nullptr;
    llmkit_ratelimiter* limiter = nullptr;
    must(llmkit_client_new(o, &c));
    llmkit_options_free(o);
    llmkit_options_new(&o);
    must(llmkit_cache_new(o, &cache));
    llmkit_options_set(o, "requests", "1000000000");
    llmkit_options_set(o, "tokens", "10000000000");
    must(llmkit_ratelimiter_new(o, &limiter));
    llmkit_options_free(o);
    llmkit_hooks* h = ten_hooks();
    llmkit_client_set_hooks(c, h);
    llmkit_hooks_free(h);
    llmkit_client_set_cache(c, cache);  // both live as long as the process
    llmkit_client_set_ratelimiter(c, limiter);
    return c;
  }();
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
