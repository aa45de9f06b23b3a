// One llmkit_client call from end to end: before hooks, the router (a
// deployment for each try, retries of failures another try may cure,
// fallbacks; docs/routing.md), the provider call, its cost, then after or
// error hooks and finally hooks (docs/hooks.md).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "budget/budgets.h"
#include "cache/cache.h"
#include "client/client.h"
#include "core/alloc.h"
#include "cost/pricing.h"
#include "hooks/registry.h"
#include "metrics/registry.h"
#include "metrics/view.h"
#include "pipeline/router.h"
#include "pipeline/trace_stage.h"
#include "ratelimit/limiter.h"
#include "route/retry.h"

namespace llmkit::pipeline {

class Pipeline {
 public:
  Pipeline(const Options& options, const std::function<const char*(const char*)>& environment);

  // Hooks for the calls that start from now on; null: none. Calls already
  // running keep the registry they began with. Thread safety: any thread.
  void set_hooks(std::shared_ptr<hooks::Registry> registry);
  // The response cache and the per-caller limiter of the calls that start
  // from now on; null: none. Not owned: each must outlive the client.
  // Thread safety: any thread.
  void set_cache(cache::Cache* cache) { cache_.store(cache); }
  void set_limiter(ratelimit::Limiter* limiter) { limiter_.store(limiter); }

  client::Result chat(const providers::ChatRequest& request, const Options* call_options,
                      const Cancel* cancel, const client::Client::ChunkFn& on_chunk);
  // `done` runs on the loop thread after the call's after, error and
  // finally hooks (or on this thread, when a before hook ended the call).
  void chat_async(const providers::ChatRequest& request, const Options* call_options,
                  const Cancel* cancel, client::Client::ChunkFn on_chunk,
                  client::Client::DoneFn done);

  // Embeddings of `inputs` by `model` (a group of deployments, or a model
  // of the client's own provider; empty: the client's "model"), through
  // the before, after, error and finally hooks (their event has no
  // request), the router, retries, breakers and fallbacks as chat calls.
  // A failed try sends every batch again. Throws the last failure.
  client::Vectors embed(std::string_view model, const providers::Vector<String>& inputs,
                        const Options* call_options, const Cancel* cancel);

  // The client of the client's own "provider"; INVALID_ARGUMENT when it has
  // only "deployments".
  client::Client& client();
  // The breaker of a deployment (or a model of the client's own provider);
  // nullptr before the first call to it, or when breakers are off.
  route::Breaker* breaker(std::string_view name) { return router_.breaker(name); }
  Router& router() { return router_; }
  // The "budgets" option's, or null.
  budget::Budgets* budgets() { return budgets_.get(); }
  // Where the calls' trace records go; null when "trace" is unset.
  trace::Writer* trace_writer() { return tracer_ ? &tracer_->writer : nullptr; }
  // The client's metrics as they are now: its calls' registry (unless
  // "metrics" is false) and the figures of every part it holds.
  // Thread safety: any thread, also while calls run.
  metrics::View view();

 private:
  struct Call;

  std::shared_ptr<hooks::Registry> hooks() const;
  // What every call sets up first, chat or embeddings, blocking or async:
  // its hooks, its trace, its tags and metadata, its cancel and deadline.
  void begin(Call& call, const Options* call_options, const Cancel* cancel) const;
  // The before round; true when it ended the call (`out` then holds how).
  bool before(Call& call, const providers::ChatRequest& request, client::Result& out) const;
  void after(Call& call, client::Result& result) const noexcept;
  // After the before round: the cache, then the caller's limit
  // (cache_stage.h, caller_limit.h). True when they ended the call: `out`
  // holds a cached answer, or why not (a refusal has no answer). A
  // `wait_ns` of 0 never waits for another call filling the cache.
  bool look_up_and_admit(Call& call, const providers::ChatRequest& request,
                         const Options* call_options, const Cancel* cancel,
                         const client::Client::ChunkFn& on_chunk, std::int64_t wait_ns,
                         client::Result& out);
  // Every call's end, however it ended (a before hook, the cache, a
  // refusal, the last try): the answer into the cache, the limit settled,
  // then the after, error and finally hooks, and last its trace record.
  void conclude(Call& call, client::Result& result) const noexcept;
  // The call's figures, for its trace record and the metrics; they borrow
  // from `call` and `result`.
  metrics::Sample sample_of(const Call& call, const client::Result& result) const noexcept;
  // The figures every call has at its end, chat or embeddings.
  metrics::Sample ended(const Call& call, llmkit_status status) const noexcept;
  // Counts the call and queues its trace record (`request`: what was sent).
  void report(Call& call, const metrics::Sample& sample, const providers::ChatRequest& request,
              const client::Result& result) const noexcept;
  // The group a request asks for: its model, or the client's.
  std::string_view model_of(const providers::ChatRequest& request) const;
  // Names the answer's deployment and provider, and sets its cost from the
  // price table.
  void stamp(client::Result& result, const Router::Target& target, int tries) const noexcept;

  // What follows a failed try: a wait before the next try in the same
  // group (0: go now, to another deployment), or a fallback, or the end.
  enum class Next { kRetry, kFallBack, kEnd };
  Next after_failure(Call& call, const client::Result& r, std::int64_t* wait_ms);
  static std::int64_t deadline_of(const Options* call_options, std::int64_t start_us);
  static client::Attempt attempt_of(std::int64_t deadline_us, std::int64_t delay_ms,
                                    std::string_view model);
  static bool sleep_ms(std::int64_t ms);  // false: it was not cancelled
  // A blocking call's tries, chat or embeddings, until one ends the call:
  // a deployment the router admits (`tokens` its estimate, asked only by a
  // tpm limit), `attempt(target, result)` on it, and after a failure a
  // retry, a fallback or the end. `attempt` tells the router how the try
  // went and returns false when no other try could go better (it could
  // not start).
  template <class Attempt>
  void try_until_done(Call& call, const std::function<std::int64_t()>& tokens,
                      client::Result& result, Attempt&& attempt);
  // An async call's next try, `delay_ms` from now, through the first
  // deployment that admits it (falling back while none does). Returns the
  // failure when no try could start.
  std::optional<client::Result> send(const std::shared_ptr<Call>& call, std::int64_t delay_ms);
  void tried(const std::shared_ptr<Call>& call, client::Result r) noexcept;
  void finish(const std::shared_ptr<Call>& call, client::Result r) noexcept;

  hooks::Tags scopes_;
  route::RetryPolicy retry_;
  std::optional<cost::PriceTable> own_prices_;  // the "prices" option's
  const cost::PriceTable* prices_;
  mutable std::mutex hooks_mutex_;
  std::shared_ptr<hooks::Registry> hooks_;
  std::atomic<cache::Cache*> cache_{nullptr};
  String cache_scope_;  // the "cache.scope" option: the tenant of the keys
  std::atomic<ratelimit::Limiter*> limiter_{nullptr};
  std::unique_ptr<budget::Budgets> budgets_;
  Unique<Tracer> tracer_;              // outlives the transport, whose last calls end into it
  Unique<metrics::Registry> metrics_;  // null with "metrics" false; outlives the transport too
  Router router_;
  // Last, so destroyed first: its async calls end (their after hooks
  // running) while the rest, the router's clients included, is still here.
  http::Transport transport_;
};

}  // namespace llmkit::pipeline
