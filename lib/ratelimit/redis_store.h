// The Redis store: one Lua script (EVALSHA) does the GCRA atomically per
// key on the server, so many hosts enforce one combined limit.
#pragma once

#include <memory>
#include <string_view>

#include "ratelimit/limiter.h"

namespace llmkit::ratelimit {

inline constexpr std::string_view kRedisOptions[] = {
    "redis.url", "redis.prefix", "redis.timeout_ms", "redis.on_failure", "redis.lease"};

std::unique_ptr<Store> make_redis_store(const Config& config, const Options& options);

}  // namespace llmkit::ratelimit
