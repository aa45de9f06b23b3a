// The monotonic clock the core times calls with.
#pragma once

#include <chrono>
#include <cstdint>

namespace llmkit {

// Microseconds on the steady clock: for durations, never for dates.
inline std::int64_t now_us() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Milliseconds on the same clock.
inline std::int64_t now_ms() noexcept {
  return now_us() / 1000;
}

}  // namespace llmkit
