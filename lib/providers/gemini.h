// Gemini generateContent / streamGenerateContent?alt=sse, and
// batchEmbedContents.
#pragma once

#include "providers/provider.h"

namespace llmkit::providers {

class Gemini final : public Provider {
 public:
  std::string_view name() const override { return "gemini"; }
  http::Request chat_request(const Endpoint& endpoint, const ChatRequest& request,
                             std::string_view model, bool stream) const override;
  void parse(std::string_view body, Response& out) const override;
  std::unique_ptr<StreamDecoder> decoder(Response& out, DeltaFn on_delta) const override;
  std::size_t embed_batch() const override { return 100; }  // batchEmbedContents' limit
  http::Request embed_request(const Endpoint& endpoint, const EmbedRequest& request) const override;
  std::int64_t parse_embeddings(std::string_view body, std::size_t inputs,
                                Vector<Vector<float>>& out) const override;
};

}  // namespace llmkit::providers
