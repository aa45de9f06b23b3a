// A client of one provider: its endpoint, its HTTP transport, and the calls
// made through them (chat, blocking or async, whole or streamed; embeddings
// in concurrent batches). The C API's llmkit_client.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "core/cancel.h"
#include "core/error.h"
#include "http/transport.h"
#include "options/options.h"
#include "providers/provider.h"

namespace llmkit::client {

// What a call ends with: its status (and message), and the answer when one
// arrived (error answers included).
struct Result {
  llmkit_status status = LLMKIT_OK;
  String message;
  std::unique_ptr<providers::Response> response;
};

struct Vectors {
  providers::Vector<providers::Vector<float>> values;
  std::int64_t input_tokens = 0;
};

// An embeddings call the provider failed, as it answered: what a retry or
// a fallback decides by (its HTTP status, Retry-After, error detail).
class EmbedFailure : public llmkit::Error {
 public:
  explicit EmbedFailure(Result r)
      : Error(r.status, std::string(r.message)),
        result_(std::make_shared<const Result>(std::move(r))) {}
  const Result& result() const noexcept { return *result_; }

 private:
  std::shared_ptr<const Result> result_;  // shared: an exception is copied
};

// How the pipeline shapes one try of a call.
struct Attempt {
  std::int64_t delay_ms = 0;      // async: sent no sooner (a retry's backoff)
  std::int64_t total_cap_ms = 0;  // the whole try ends by then (a deadline); 0: none
  std::string_view model;         // asked for instead of the request's (a deployment's)
};

class Client {
 public:
  // A streamed piece; a status other than OK stops the call with it.
  using ChunkFn = std::function<llmkit_status(const providers::Delta&)>;
  using DoneFn = std::function<void(Result)>;

  // `environment` reads a variable (getenv in production; tests pass their
  // own). Calls go through `transport`, which must outlive them and this.
  Client(const Options& options, const std::function<const char*(const char*)>& environment,
         http::Transport& transport);
  ~Client();

  std::string_view provider_name() const { return provider_.name(); }
  // The "model" option: where a request naming none goes.
  std::string_view model() const { return model_; }

  // Blocking: `on_chunk` (may be empty) runs on the calling thread.
  Result chat(const providers::ChatRequest& request, const Options* call_options,
              const Cancel* cancel, const ChunkFn& on_chunk, const Attempt& attempt = {});
  // Async: `on_chunk` and `done` run on the loop thread. Throws (and never
  // calls `done`) when the call cannot start.
  void chat_async(const providers::ChatRequest& request, const Options* call_options,
                  const Cancel* cancel, ChunkFn on_chunk, DoneFn done, const Attempt& attempt = {});

  // Throws the failing batch's status: an EmbedFailure when the provider
  // answered with an error.
  Vectors embed(std::string_view model, const providers::Vector<String>& inputs,
                const Options* call_options, const Cancel* cancel);

 private:
  http::Request build(const providers::ChatRequest& request, bool stream,
                      const Options* call_options, const Attempt& attempt) const;

  Options options_;  // a copy: its "header.*" go with every call
  const providers::Provider& provider_;
  providers::Endpoint endpoint_;
  String model_;
  http::Timeouts timeouts_;
  std::int64_t embed_concurrency_ = 4;
  http::Transport& transport_;
};

// INVALID_ARGUMENT naming the first key of `options` a client does not know.
void require_known(const Options& options);
// The options that make one endpoint (provider, base_url, api_key, model,
// timeouts, headers, ...): those a deployment may set for itself. An entry
// ending in '.' admits every key under it.
std::span<const std::string_view> endpoint_options();
// The connection settings in a client's options (one transport serves
// every deployment of a client); proxies not set there come from
// `environment` (as getenv; may be empty).
http::Settings transport_settings(const Options& options,
                                  const std::function<const char*(const char*)>& environment);

}  // namespace llmkit::client
