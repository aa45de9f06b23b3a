// One interface over the providers' wire formats (one file each: openai.cpp,
// anthropic.cpp, gemini.cpp, ollama.cpp): build the HTTP request, parse a
// whole answer, decode a stream, read an error answer. Providers know
// nothing of transport beyond the request they describe.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "http/transport.h"
#include "providers/request.h"
#include "providers/response.h"

namespace llmkit::providers {

// Where and as whom to call.
struct Endpoint {
  String base_url;  // without a trailing '/'
  String api_key;   // may be empty (local servers)
  String version;   // Anthropic's "anthropic-version"
};

// A piece of a streamed answer, as it arrived.
struct Delta {
  enum Kind { kText, kReasoning, kToolCall } kind = kText;
  std::string_view text;  // text or reasoning; a tool call's arguments piece
  int index = 0;          // the tool call's position in the answer
  std::string_view id;    // set on a tool call's first delta
  std::string_view name;  // likewise
};
using DeltaFn = std::function<void(const Delta&)>;

// Decodes one streamed answer fed as raw body bytes, in any split.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Decodes `bytes` into the response, calling `on_delta` for each piece.
  // An error event inside the stream sets the response's error fields and
  // ends decoding (done() is then true).
  virtual void feed(std::string_view bytes) = 0;
  // True once the provider's terminal event (or an error event) arrived.
  virtual bool done() const = 0;
  // The end of the body: NETWORK "stream truncated" unless done().
  void finish() const;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view name() const = 0;

  // `model` goes in place of the request's (a deployment's model, or the
  // client's default): no copy of the request just to rename it.
  virtual http::Request chat_request(const Endpoint& endpoint, const ChatRequest& request,
                                     std::string_view model, bool stream) const = 0;
  // A whole answer: a success or an error body (the error fields are then
  // set, classified by the body alone; `http_status` 0 when unknown).
  // PROVIDER_ERROR when the body is neither.
  virtual void parse(std::string_view body, Response& out) const = 0;
  virtual std::unique_ptr<StreamDecoder> decoder(Response& out, DeltaFn on_delta) const = 0;

  // Embeddings: how many inputs one request may carry.
  virtual std::size_t embed_batch() const = 0;
  // UNSUPPORTED for a provider without embeddings.
  virtual http::Request embed_request(const Endpoint& endpoint, const EmbedRequest& request) const;
  // Appends one vector per input, in order (`inputs` 0: as many as the body
  // holds); returns the input tokens counted.
  virtual std::int64_t parse_embeddings(std::string_view body, std::size_t inputs,
                                        Vector<Vector<float>>& out) const;
};

// "openai", "openai-compatible", "anthropic", "gemini", "ollama";
// INVALID_ARGUMENT naming them for another name.
const Provider& provider(std::string_view name);

}  // namespace llmkit::providers
