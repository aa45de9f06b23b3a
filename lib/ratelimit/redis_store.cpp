#include "ratelimit/redis_store.h"

#include "core/error.h"

namespace llmkit::ratelimit {

std::unique_ptr<Store> make_redis_store(const Config&, const Options&) {
  fail(LLMKIT_UNSUPPORTED, "the redis rate limiter backend is not built yet");
}

}  // namespace llmkit::ratelimit
