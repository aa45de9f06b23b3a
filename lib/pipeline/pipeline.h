// One llmkit_client call from end to end: before hooks, the provider call,
// its cost, then after or error hooks and finally hooks (docs/hooks.md).
// Later stages (cache, limits, routing) join here, in this order: hooks,
// cache, limits, router, provider, usage and cost, hooks.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "client/client.h"
#include "core/alloc.h"
#include "cost/pricing.h"
#include "hooks/registry.h"

namespace llmkit::pipeline {

class Pipeline {
 public:
  Pipeline(const Options& options, const std::function<const char*(const char*)>& environment);

  // Hooks for the calls that start from now on; null: none. Calls already
  // running keep the registry they began with. Thread safety: any thread.
  void set_hooks(std::shared_ptr<hooks::Registry> registry);

  client::Result chat(const providers::ChatRequest& request, const Options* call_options,
                      const Cancel* cancel, const client::Client::ChunkFn& on_chunk);
  // `done` runs on the loop thread after the call's after, error and
  // finally hooks (or on this thread, when a before hook ended the call).
  void chat_async(const providers::ChatRequest& request, const Options* call_options,
                  const Cancel* cancel, client::Client::ChunkFn on_chunk,
                  client::Client::DoneFn done);

  client::Client& client() { return client_; }

 private:
  struct Call;

  std::shared_ptr<hooks::Registry> hooks() const;
  // The before round; true when it ended the call (`out` then holds how).
  bool before(Call& call, const providers::ChatRequest& request, client::Result& out) const;
  void after(Call& call, client::Result& result) const noexcept;
  // Where a request goes: its model, or the client's.
  std::string_view model_of(const providers::ChatRequest& request) const;
  // Sets the answer's cost from the price table.
  void price(client::Result& result, std::string_view model) const noexcept;

  hooks::Tags scopes_;
  std::optional<cost::PriceTable> own_prices_;  // the "prices" option's
  const cost::PriceTable* prices_;
  mutable std::mutex hooks_mutex_;
  std::shared_ptr<hooks::Registry> hooks_;
  // Last, so destroyed first: its async calls end (their after hooks
  // running) while the rest is still here.
  client::Client client_;
};

}  // namespace llmkit::pipeline
