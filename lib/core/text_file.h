// Options that take JSON either inline or as a file ("prices",
// "deployments", "fallbacks"): the text, read from the file when it is not
// JSON itself.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/alloc.h"

namespace llmkit {

// `json_or_path` itself when its first non-blank byte is '{' or '[' (so a
// mistaken JSON text is reported as bad JSON, not as a missing file), else
// the contents of the file at that path. INVALID_ARGUMENT, "<what>: ..."
// (what names the file), for a file that cannot be read or holds more than
// `max_bytes`.
String json_text_or_file(std::string_view json_or_path, std::string_view what,
                         std::size_t max_bytes = std::size_t{16} << 20);

// Whether json_text_or_file() reads `json_or_path` as JSON text.
bool is_json_text(std::string_view json_or_path) noexcept;

}  // namespace llmkit
