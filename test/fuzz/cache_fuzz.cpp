// libFuzzer target: arbitrary bytes as a request to key, an embeddings
// request to split, and a completion to replay. Each must give OK or
// INVALID_ARGUMENT with a message, never a crash; a key is always 32 hex
// digits and stable for the same bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "llmkit.h"

namespace {

void require_clean_error(llmkit_status st) {
  if (st != LLMKIT_OK && (st != LLMKIT_INVALID_ARGUMENT || llmkit_last_error()[0] == '\0')) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static llmkit_cache* cache = [] {
    llmkit_options* o = nullptr;
    llmkit_cache* c = nullptr;
    if (llmkit_options_new(&o) != LLMKIT_OK || llmkit_options_set(o, "max_bytes", "1048576") ||
        llmkit_cache_new(o, &c) != LLMKIT_OK) {
      abort();
    }
    llmkit_options_free(o);
    return c;
  }();
  const char* text = reinterpret_cast<const char*>(data);

  char key[LLMKIT_CACHE_KEY_SIZE];
  char again[LLMKIT_CACHE_KEY_SIZE];
  llmkit_cache_use use;
  const llmkit_status st = llmkit_cache_key(cache, "s", "openai", text, size, nullptr, key, &use);
  require_clean_error(st);
  if (st == LLMKIT_OK) {
    if (std::strlen(key) != 32 ||
        llmkit_cache_key(cache, "s", "openai", text, size, nullptr, again, &use) != LLMKIT_OK ||
        std::strcmp(key, again) != 0) {
      abort();
    }
  }

  llmkit_embeddings* batch = nullptr;
  const llmkit_status eb = llmkit_embeddings_new(cache, "s", "openai", text, size, &batch);
  require_clean_error(eb);
  llmkit_embeddings_free(batch);

  llmkit_replay* replay = nullptr;
  const llmkit_status rs = llmkit_replay_new(text, size, 3, &replay);
  require_clean_error(rs);
  if (rs == LLMKIT_OK) {
    const char* chunk = nullptr;
    size_t len = 0;
    while (llmkit_replay_next(replay, &chunk, &len) == LLMKIT_OK && chunk != nullptr) {
    }
  }
  llmkit_replay_free(replay);
  return 0;
}
