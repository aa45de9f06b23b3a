// libFuzzer target: arbitrary bytes as a cached answer's record, as a
// client's cache may hold another writer's (pipeline/cached_answer.h).
// Each is no answer, or an answer whose record is those bytes again: a
// record reads one way only, so no wrong answer hides in a damaged one.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pipeline/cached_answer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto answer = llmkit::pipeline::decode_answer(bytes);
  if (answer && std::string_view(llmkit::pipeline::encode_answer(*answer)) != bytes) abort();
  return 0;
}
