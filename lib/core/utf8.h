// UTF-8 validation shared by every entry point that accepts text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace llmkit::utf8 {

// Returns the byte offset of the first invalid sequence, or nullopt when
// `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF).
std::optional<std::size_t> first_invalid(std::string_view s) noexcept;

// `s` in single quotes for an error message: control bytes and bytes of
// invalid UTF-8 are written as \xNN, so a message is always valid UTF-8,
// and input longer than `max_bytes` is cut with "...".
std::string quote(std::string_view s, std::size_t max_bytes = 64);

// Throws INVALID_ARGUMENT naming `what` and the offending byte offset.
void require_valid(std::string_view s, std::string_view what);

}  // namespace llmkit::utf8
