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
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

#include "chat_support.h"
#include "hooks/registry.h"
#include "llmkit.h"

namespace {

using llmkit::bench::nginx;

llmkit_client* new_client() {
  llmkit_options* o = nullptr;
  llmkit_options_new(&o);
  llmkit_options_set(o, "provider", "openai");
  llmkit_options_set(o, "base_url", nginx().url("/v1").c_str());
  llmkit_options_set(o, "api_key", "sk-bench");
  llmkit_options_set(o, "scopes", "production");
  llmkit_client* c = nullptr;
  if (llmkit_client_new(o, &c) != LLMKIT_OK) std::abort();
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
  if (llmkit_hooks_new(nullptr, &h) != LLMKIT_OK) std::abort();
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
    if (llmkit_hooks_add(h, s.kind, s.scope, s.rule, 0, touch, nullptr, nullptr) != LLMKIT_OK) {
      std::abort();
    }
  }
  return h;
}

void run(benchmark::State& state, llmkit_client* client) {
  llmkit_request* req = nullptr;
  llmkit_request_new(&req);
  llmkit_request_set(req, "model", "gpt-4o-mini");
  llmkit_request_add_message(req, "user", "Say hello.");
  llmkit_options* call = nullptr;
  llmkit_options_new(&call);
  llmkit_options_set(call, "tags", "prod,beta");
  llmkit_options_set(call, "meta.team", "search");
  {
    llmkit::bench::CpuCounter cpu(state);
    for (auto _ : state) {
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
    if (registry.any(Kind::kBefore, scopes)) {
      llmkit::providers::ChatRequest own = request;  // what before hooks may change
      e.request = e.editable = &own;
      e.kind = Kind::kBefore;
      registry.run(e, scopes);
      e.editable = nullptr;
      e.request = &request;
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

}  // namespace
