// The shared-memory store: one named table in /dev/shm that every process
// on the host maps, so they enforce one combined limit.
#pragma once

#include <memory>
#include <string_view>

#include "ratelimit/limiter.h"

namespace llmkit::ratelimit {

inline constexpr std::string_view kShmOptions[] = {"shm.name", "shm.capacity", "shm.lease"};

std::unique_ptr<Store> make_shm_store(const Config& config, const Options& options);

}  // namespace llmkit::ratelimit
