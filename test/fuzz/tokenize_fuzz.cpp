// libFuzzer target: arbitrary bytes through the tokenizer's C API must give
// a status, never a crash, and valid text must round-trip.
//   byte 0: encoding (mod 4), byte 1: special-token mode (mod 3), rest: text
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "llmkit.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* const kNames[] = {"cl100k_base", "o200k_base", "p50k_base", "r50k_base"};
  static llmkit_tokenizer* toks[4] = {};
  if (size < 2) return 0;
  llmkit_tokenizer*& tok = toks[data[0] % 4];
  if (tok == nullptr && llmkit_tokenizer_new(kNames[data[0] % 4], &tok) != LLMKIT_OK) abort();
  const auto mode = static_cast<llmkit_special_mode>(data[1] % 3);
  const char* text = reinterpret_cast<const char*>(data + 2);
  const std::size_t len = size - 2;

  std::vector<std::uint32_t> ids(len + 1);
  std::size_t n = 0, count = 0;
  const llmkit_status st =
      llmkit_tokenizer_encode(tok, text, len, mode, ids.data(), ids.size(), &n);
  if (st != LLMKIT_OK) {
    if (st != LLMKIT_INVALID_ARGUMENT || llmkit_last_error()[0] == '\0') abort();
    return 0;  // invalid UTF-8 or a disallowed special token
  }
  if (llmkit_tokenizer_count(tok, text, len, mode, &count) != LLMKIT_OK || count != n) abort();
  std::vector<char> back(len + 1);
  std::size_t back_len = 0;
  if (llmkit_tokenizer_decode(tok, ids.data(), n, back.data(), back.size(), &back_len) !=
          LLMKIT_OK ||
      back_len != len || std::memcmp(back.data(), text, len) != 0) {
    abort();
  }
  return 0;
}
