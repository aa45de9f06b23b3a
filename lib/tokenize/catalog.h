// The encodings embedded in the library and OpenAI's model -> encoding map.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "tokenize/encoding.h"

namespace llmkit::tokenize {

// The encoding named `name`, loaded on first use and kept for the life of
// the process. NOT_FOUND, listing the known names, for any other name.
const Encoding& encoding(std::string_view name);

// The names of the embedded encodings.
std::span<const std::string_view> encoding_names();

// The encoding an OpenAI model uses: an exact name from data/models.tsv,
// else its longest matching prefix. NOT_FOUND when none matches.
std::string_view encoding_for_model(std::string_view model);
// The same, or nullopt when none matches: for callers that go on without
// one, on every call (an exception costs microseconds).
std::optional<std::string_view> find_encoding_for_model(std::string_view model);

}  // namespace llmkit::tokenize
