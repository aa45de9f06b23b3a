#include "pipeline/estimate.h"

#include "tokenize/count.h"

namespace llmkit::pipeline {
namespace {

// OpenAI's counting recipe adds these per message and for the reply's
// priming (tokenize/count.cpp); other providers' overheads are alike.
constexpr std::int64_t kPerMessage = 3;
constexpr std::int64_t kReplyPriming = 3;
// Without a tokenizer for the model: the usual four bytes a token.
constexpr std::int64_t kBytesPerToken = 4;

}  // namespace

std::int64_t estimate_input_tokens(const providers::ChatRequest& request, std::string_view model) {
  // One text for one count: the pieces' boundaries move a count by a token
  // or two, well within what an estimate may be off. Images are not
  // counted: the provider's usage charges them when the call settles.
  String text = request.system;
  std::int64_t messages = request.system.empty() ? 0 : 1;
  for (const providers::Message& m : request.messages) {
    ++messages;
    for (const providers::Part& p : m.parts) (text += '\n') += p.text;
    for (const providers::ToolCall& c : m.tool_calls) ((text += '\n') += c.name) += c.arguments;
  }
  for (const providers::Tool& t : request.tools) {
    (((text += '\n') += t.name) += t.description) += t.parameters;
  }
  const std::optional<tokenize::Estimate> known = tokenize::find_estimate(model, text);
  // No tokenizer for the model (or a group's name): estimate by size.
  const std::int64_t tokens =
      known ? static_cast<std::int64_t>(known->count)
            : (static_cast<std::int64_t>(text.size()) + kBytesPerToken - 1) / kBytesPerToken;
  return tokens + messages * kPerMessage + kReplyPriming;
}

std::int64_t estimate_tokens(const providers::ChatRequest& request, std::string_view model) {
  return estimate_input_tokens(request, model) + request.max_tokens.value_or(0);
}

}  // namespace llmkit::pipeline
