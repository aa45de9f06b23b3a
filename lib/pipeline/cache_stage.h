// The response cache in a client's calls (docs/cache.md, "With a client").
// It sits right after the before hooks: a hit ends the call there, so it
// never spends the caller's limit, a router's choice or a provider's money;
// a miss keeps its key until the answer is known, to store it, or to
// abandon the key's flight so that a waiting caller fills it instead.
#pragma once

#include <cstdint>
#include <string_view>

#include "cache/cache.h"
#include "client/client.h"
#include "metrics/sample.h"
#include "providers/request.h"

namespace llmkit::pipeline {

class CacheStage {
 public:
  // The key's provider part: fixed, since a router may send equal requests
  // to different deployments, and their answers are equally good.
  static constexpr std::string_view kProvider = "llmkit";

  CacheStage() = default;
  // Abandons a flight this call leads and never landed, however the call
  // ended (an exception included): its waiters must not wait in vain.
  ~CacheStage();
  CacheStage(const CacheStage&) = delete;
  CacheStage& operator=(const CacheStage&) = delete;

  // Looks the call up in `cache` (null: no cache). `request` is the one
  // the caller made, after the before hooks; `model` its model name, the
  // requested one. On a hit, `out` holds the answer (cached, costing 0),
  // first streamed through `on_chunk` when set, and the result is true.
  // A miss while another call fills the key waits for it up to `wait_ns`
  // (0: no wait; this call fills too). Throws CANCELLED from the wait, and
  // INVALID_ARGUMENT for a bad "cache" call option.
  bool lookup(cache::Cache* cache, std::string_view scope, const providers::ChatRequest& request,
              std::string_view model, const Options* call_options, std::int64_t wait_ns,
              const Cancel* cancel, const client::Client::ChunkFn& on_chunk, client::Result& out);

  // The end of a call that missed: a successful, finished answer goes into
  // the cache; anything else abandons the flight this call leads. Once:
  // later calls do nothing. A store that fails is only a later miss.
  void store(const client::Result& result) noexcept;

  // Whether the call was a hit, a miss, or never looked up (no cache, a
  // bypass, a refresh).
  metrics::CacheUse use() const { return use_; }

 private:
  cache::Cache* cache_ = nullptr;  // set while the call's answer is to be stored
  cache::Key key_;
  bool filling_ = false;  // this call leads the key's flight: it must put or abandon
  metrics::CacheUse use_ = metrics::CacheUse::kNone;
};

}  // namespace llmkit::pipeline
