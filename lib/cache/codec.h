// How a cached value is stored in Redis: a small header (format, expiry)
// and the bytes, zstd-compressed when that makes them smaller. The expiry
// travels with the value so the in-memory tier of whichever process reads
// it keeps it no longer than Redis does.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/alloc.h"

namespace llmkit::cache::codec {

// `expires_unix_ms` 0: no expiry.
String encode(std::string_view value, std::int64_t expires_unix_ms);

struct Decoded {
  String value;
  std::int64_t expires_unix_ms = 0;
};

// INVALID_ARGUMENT for bytes that encode() did not make (another writer
// under the same prefix, or corruption).
Decoded decode(std::string_view stored);

}  // namespace llmkit::cache::codec
