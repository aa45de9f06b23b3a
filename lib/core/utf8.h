// UTF-8 validation shared by every entry point that accepts text.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace llmkit::utf8 {

// Returns the byte offset of the first invalid sequence, or nullopt when
// `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF).
std::optional<std::size_t> first_invalid(std::string_view s) noexcept;

// Throws INVALID_ARGUMENT naming `what` and the offending byte offset.
void require_valid(std::string_view s, std::string_view what);

}  // namespace llmkit::utf8
