// The clients the pipeline benchmarks compare (pipeline_bench.cpp, and
// pipeline_calls.cpp under callgrind): the bare client, and one with every
// stage of the pipeline, both against the local nginx of chat_support.h;
// and the call they all send (trace_bench.cpp's too).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chat_support.h"
#include "llmkit.h"

namespace llmkit::bench {

// A set-up step that must work: the bench means nothing otherwise.
inline void must(llmkit_status status) {
  if (status == LLMKIT_OK) return;
  std::fprintf(stderr, "bench set-up: %s\n", llmkit_last_error());
  std::abort();
}

inline llmkit_client* new_client() {
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

inline llmkit_status touch(llmkit_hook_event* e, void*) {
  const char* model = nullptr;
  llmkit_hook_event_get(e, "model", &model, nullptr);
  benchmark::DoNotOptimize(model);
  return LLMKIT_OK;
}

inline llmkit_hooks* ten_hooks() {
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

// The stages a full client has: the ten hooks, a cache that misses (and
// stores) for calls whose requests differ, a caller limit that admits, and
// the router choosing between two deployments of the group "chat" (with a
// fallback rule) for each call.
struct Stages {
  bool hooks = true;
  bool cache = true;
  bool limit = true;
  bool router = true;

  // "hooks,cache,limit,router" or any of them; nullptr: every one.
  static Stages named(const char* list) {
    if (list == nullptr) return {};
    const std::string s = std::string(",") + list + ",";
    const auto has = [&](const char* name) {
      return s.find(std::string(",") + name + ",") != std::string::npos;
    };
    return {has("hooks"), has("cache"), has("limit"), has("router")};
  }
  // The model a call asks for: the group, or the model itself.
  const char* model() const { return router ? "chat" : "gpt-4o-mini"; }
};

inline llmkit_client* full_client(Stages stages = {}) {
  const std::string base = nginx().url("/v1");
  const std::string deployment =
      R"(, "provider": "openai", "base_url": ")" + base +
      R"(", "api_key": "sk-bench", "model": "gpt-4o-mini", "group": "chat"})";
  llmkit_options* o = nullptr;
  llmkit_options_new(&o);
  if (stages.router) {
    llmkit_options_set(
        o, "deployments",
        ("[{\"name\": \"a\"" + deployment + ", {\"name\": \"b\"" + deployment + "]").c_str());
    llmkit_options_set(o, "fallbacks", R"([{"from": "chat", "to": ["gpt-4o-mini"]}])");
  }
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
  if (stages.hooks) llmkit_client_set_hooks(c, h);
  llmkit_hooks_free(h);
  if (stages.cache) llmkit_client_set_cache(c, cache);  // both live as long as the process
  if (stages.limit) llmkit_client_set_ratelimiter(c, limiter);
  return c;
}

// One request and its call options as the pipeline benchmarks send them:
// tags and metadata that most rules match, and a caller for the limit.
class PipelineCall {
 public:
  explicit PipelineCall(const char* model) {
    llmkit_request_new(&request_);
    llmkit_request_set(request_, "model", model);
    llmkit_request_add_message(request_, "user", "Say hello.");
    llmkit_options_new(&options_);
    llmkit_options_set(options_, "tags", "prod,beta");
    llmkit_options_set(options_, "meta.team", "search");
    llmkit_options_set(options_, "caller", "bench");
  }
  ~PipelineCall() {
    llmkit_options_free(options_);
    llmkit_request_free(request_);
  }
  PipelineCall(const PipelineCall&) = delete;
  PipelineCall& operator=(const PipelineCall&) = delete;

  // One call. With `fresh`, the request differs from every earlier one (its
  // seed), so that a client's cache misses and stores the answer.
  llmkit_status once(llmkit_client* client, bool fresh) {
    static std::int64_t seed = 0;  // never the same twice, across repetitions too
    if (fresh) llmkit_request_set(request_, "seed", std::to_string(++seed).c_str());
    llmkit_response* response = nullptr;
    const llmkit_status s =
        llmkit_client_chat(client, request_, options_, nullptr, nullptr, nullptr, &response);
    llmkit_response_free(response);
    return s;
  }

 private:
  llmkit_request* request_ = nullptr;
  llmkit_options* options_ = nullptr;
};

}  // namespace llmkit::bench
