// One llmkit_client call from end to end: before hooks, the provider call
// (tried again on failures another try may cure, docs/providers.md), its
// cost, then after or error hooks and finally hooks (docs/hooks.md).
// Later stages (cache, limits, routing) join here, in this order: hooks,
// cache, limits, router, provider, usage and cost, hooks.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>

#include "cache/cache.h"
#include "client/client.h"
#include "core/alloc.h"
#include "cost/pricing.h"
#include "hooks/registry.h"
#include "ratelimit/limiter.h"
#include "route/breaker.h"
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

  client::Client& client() { return client_; }
  // The breaker of `model`; nullptr before the first call to it, or when
  // breakers are off.
  route::Breaker* breaker(std::string_view model);

 private:
  struct Call;

  std::shared_ptr<hooks::Registry> hooks() const;
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
  // Before the after round: the answer into the cache, the limit settled.
  static void store_and_settle(Call& call, const client::Result& result) noexcept;
  // Where a request goes: its model, or the client's.
  std::string_view model_of(const providers::ChatRequest& request) const;
  // Sets the answer's cost from the price table.
  void price(client::Result& result, std::string_view model) const noexcept;

  // Retries. The wait before the next try, or none: no try is left, the
  // failure is not retryable, pieces were streamed, or the deadline is near.
  std::optional<std::int64_t> next_wait(const client::Result& r, int tries, bool delivered,
                                        std::int64_t deadline_us) const;
  static std::int64_t deadline_of(const Options* call_options, std::int64_t start_us);
  static client::Attempt attempt_of(std::int64_t deadline_us, std::int64_t delay_ms);
  static bool sleep_ms(std::int64_t ms);  // false: it was not cancelled
  // The breaker a try to `model` passes, or null when they are off. Throws
  // UNAVAILABLE, naming the deployment, when it is open.
  route::Breaker* admit(std::string_view model);
  static void record(route::Breaker* breaker, const client::Result& r) noexcept;
  // An async call's try, `delay_ms` from now, and its end (the loop thread).
  void send(const std::shared_ptr<Call>& call, std::int64_t delay_ms);
  void tried(const std::shared_ptr<Call>& call, client::Result r) noexcept;

  hooks::Tags scopes_;
  route::RetryPolicy retry_;
  route::Breakers breakers_;
  std::optional<cost::PriceTable> own_prices_;  // the "prices" option's
  const cost::PriceTable* prices_;
  mutable std::mutex hooks_mutex_;
  std::shared_ptr<hooks::Registry> hooks_;
  std::atomic<cache::Cache*> cache_{nullptr};
  String cache_scope_;  // the "cache.scope" option: the tenant of the keys
  std::atomic<ratelimit::Limiter*> limiter_{nullptr};
  // Last, so destroyed first: its async calls end (their after hooks
  // running) while the rest is still here.
  client::Client client_;
};

}  // namespace llmkit::pipeline
