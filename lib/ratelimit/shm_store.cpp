#include "ratelimit/shm_store.h"

#include "core/error.h"

namespace llmkit::ratelimit {

std::unique_ptr<Store> make_shm_store(const Config&, const Options&) {
  fail(LLMKIT_UNSUPPORTED, "the shm rate limiter backend is not built yet");
}

}  // namespace llmkit::ratelimit
