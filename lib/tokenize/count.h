// Counting beyond one text: many texts on the worker threads, chat
// requests by OpenAI's per-message rules, and estimates for models whose
// tokenizer is not public.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "tokenize/encoding.h"

namespace llmkit::tokenize {

// counts[i] = enc.count(texts[i]). If any text fails, every other count is
// still filled in and the error of the lowest failing index is thrown,
// its message prefixed with "text <i>: ".
void count_batch(const Encoding& enc, std::span<const std::string_view> texts, SpecialMode mode,
                 std::span<std::size_t> counts);

// Prompt tokens of a Chat Completions request (docs/tokens.md).
std::size_t count_chat(std::string_view model, std::string_view messages_json,
                       std::string_view tools_json);

struct Estimate {
  std::size_t count;
  bool exact;
};
Estimate estimate(std::string_view model, std::string_view text);
// The same, or nullopt when nothing is known for `model` (estimate() says
// NOT_FOUND): for the pipeline's per-call estimates, where the group a
// request names need not be a model at all.
std::optional<Estimate> find_estimate(std::string_view model, std::string_view text);

}  // namespace llmkit::tokenize
