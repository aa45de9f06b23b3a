// Replays a cached Chat Completions answer to a streaming caller: the
// "chat.completion.chunk" events OpenAI would have sent for it, so a
// stream and a plain call can share one cache entry (the "stream" flag is
// not part of the key).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/alloc.h"

namespace llmkit::cache {

class Replay {
 public:
  // INVALID_ARGUMENT when `completion_json` is not a chat completion.
  // `piece_bytes` is the most bytes of text per chunk (at least 1; a UTF-8
  // character is never split, so one longer than that is a piece alone).
  Replay(std::string_view completion_json, std::size_t piece_bytes);

  // The next chunk's JSON; nullptr after the last.
  const String* next() noexcept {
    return position_ < chunks_.size() ? &chunks_[position_++] : nullptr;
  }
  std::size_t size() const noexcept { return chunks_.size(); }

 private:
  std::vector<String, Allocator<String>> chunks_;
  std::size_t position_ = 0;
};

}  // namespace llmkit::cache
