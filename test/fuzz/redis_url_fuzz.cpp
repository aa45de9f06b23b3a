// libFuzzer target: arbitrary bytes as the "redis.url" of a rate limiter
// must give OK or INVALID_ARGUMENT with a message, never a crash. Making
// the limiter connects to nothing: Redis is first reached on first use.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "llmkit.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static llmkit_options* options = [] {
    llmkit_options* o = nullptr;
    if (llmkit_options_new(&o) != LLMKIT_OK ||
        llmkit_options_set(o, "backend", "redis") != LLMKIT_OK ||
        llmkit_options_set(o, "requests", "10") != LLMKIT_OK) {
      abort();
    }
    return o;
  }();
  const std::string url(reinterpret_cast<const char*>(data), size);
  if (llmkit_options_set(options, "redis.url", url.c_str()) != LLMKIT_OK) {
    return 0;  // a NUL cuts it short, or invalid UTF-8: options refuse it first
  }
  llmkit_ratelimiter* limiter = nullptr;
  const llmkit_status st = llmkit_ratelimiter_new(options, &limiter);
  if (st == LLMKIT_OK) {
    llmkit_ratelimiter_free(limiter);
  } else if (st != LLMKIT_INVALID_ARGUMENT || llmkit_last_error()[0] == '\0') {
    abort();
  }
  return 0;
}
