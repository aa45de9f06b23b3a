// The tokens a call will likely take, for token-per-minute limits before
// the answer says: its prompt counted with the model's tokenizer (or
// estimated, for models without a public one) plus its max_tokens. Limits
// settle the difference once the answer's usage is known.
#pragma once

#include <cstdint>
#include <string_view>

#include "providers/request.h"

namespace llmkit::pipeline {

// The prompt's tokens: every text counted as one with the model's tokenizer
// (by size, four bytes a token, when llmkit knows none), plus the framing
// of each message. Images are not counted: the answer's usage settles them.
std::int64_t estimate_input_tokens(const providers::ChatRequest& request, std::string_view model);
// The prompt's tokens plus the request's max_tokens.
std::int64_t estimate_tokens(const providers::ChatRequest& request, std::string_view model);

}  // namespace llmkit::pipeline
