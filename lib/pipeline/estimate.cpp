#include "pipeline/estimate.h"

#include "core/error.h"
#include "tokenize/count.h"

namespace llmkit::pipeline {
namespace {

// OpenAI's per-message framing (docs/tokens.md); close enough for the
// others, whose framing is not published.
constexpr std::int64_t kPerMessage = 4;

}  // namespace

std::int64_t estimate_tokens(const providers::ChatRequest& request, std::string_view model) {
  bool known = true;
  const auto count = [&](std::string_view text) -> std::int64_t {
    if (text.empty()) return 0;
    if (known) {
      try {
        return static_cast<std::int64_t>(tokenize::estimate(model, text).count);
      } catch (const Error& e) {
        if (e.status() != LLMKIT_NOT_FOUND) throw;
        known = false;
      }
    }
    // No tokenizer is known for the model: about four bytes a token.
    return static_cast<std::int64_t>(text.size() + 3) / 4;
  };
  std::int64_t n = count(request.system);
  for (const providers::Message& m : request.messages) {
    n += kPerMessage;
    for (const providers::Part& p : m.parts) n += count(p.text);
    for (const providers::ToolCall& c : m.tool_calls) n += count(c.name) + count(c.arguments);
  }
  for (const providers::Tool& t : request.tools) {
    n += count(t.name) + count(t.description) + count(t.parameters);
  }
  return n + request.max_tokens.value_or(0);
}

}  // namespace llmkit::pipeline
