// Anthropic Messages: prompt caching (cache_control), thinking blocks, the
// "anthropic-version" header.
#pragma once

#include "providers/provider.h"

namespace llmkit::providers {

class Anthropic final : public Provider {
 public:
  std::string_view name() const override { return "anthropic"; }
  http::Request chat_request(const Endpoint& endpoint, const ChatRequest& request,
                             std::string_view model, bool stream) const override;
  void parse(std::string_view body, Response& out) const override;
  std::unique_ptr<StreamDecoder> decoder(Response& out, DeltaFn on_delta) const override;
  std::size_t embed_batch() const override { return 0; }
};

}  // namespace llmkit::providers
