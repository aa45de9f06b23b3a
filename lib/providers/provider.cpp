#include "providers/provider.h"

#include <string>

#include "core/error.h"
#include "providers/anthropic.h"
#include "providers/gemini.h"
#include "providers/ollama.h"
#include "providers/openai.h"

namespace llmkit::providers {

void StreamDecoder::finish() const {
  if (!done()) fail(LLMKIT_NETWORK, "stream truncated: it ended before the provider's last event");
}

http::Request Provider::embed_request(const Endpoint&, const EmbedRequest&) const {
  fail(LLMKIT_UNSUPPORTED, std::string(name()) + " has no embeddings API");
}

std::int64_t Provider::parse_embeddings(std::string_view, std::size_t,
                                        Vector<Vector<float>>&) const {
  fail(LLMKIT_UNSUPPORTED, std::string(name()) + " has no embeddings API");
}

const Provider& provider(std::string_view name) {
  // Providers hold no state: one of each serves every client.
  static const OpenAi openai(false);
  static const OpenAi compatible(true);
  static const Anthropic anthropic;
  static const Gemini gemini;
  static const Ollama ollama;
  if (name == "openai") return openai;
  if (name == "openai-compatible") return compatible;
  if (name == "anthropic") return anthropic;
  if (name == "gemini") return gemini;
  if (name == "ollama") return ollama;
  fail(LLMKIT_INVALID_ARGUMENT, "unknown provider \"" + std::string(name) +
                                    "\": openai, openai-compatible, anthropic, gemini or ollama");
}

}  // namespace llmkit::providers
