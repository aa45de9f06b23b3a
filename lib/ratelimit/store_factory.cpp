#include <string>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"
#include "ratelimit/limiter.h"

namespace llmkit::ratelimit {

namespace {

void require_known(const Options& o, std::span<const std::string_view> backend_options,
                   const std::string& backend) {
  std::vector<std::string_view> known(std::begin(Limiter::kOptions), std::end(Limiter::kOptions));
  known.insert(known.end(), backend_options.begin(), backend_options.end());
  o.require_known(known, "the rate limiter's " + backend + " backend");
}

}  // namespace

std::unique_ptr<Store> make_store(const Options& o, const Config& config) {
  const String* name = o.find("backend");
  const std::string backend = name == nullptr ? "memory" : std::string(name->data(), name->size());
  if (backend == "memory") {
    require_known(o, {}, backend);
    return make_memory_store(config);
  }
  if (backend == "shm") {
    require_known(o, kShmOptions, backend);
    return make_shm_store(config, o);
  }
  if (backend == "redis") {
    require_known(o, kRedisOptions, backend);
    return make_redis_store(config, o);
  }
  fail(LLMKIT_INVALID_ARGUMENT,
       "unknown rate limiter backend " + utf8::quote(backend) + " (known: memory, shm, redis)");
}

}  // namespace llmkit::ratelimit
