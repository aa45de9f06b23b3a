// A cancellation signal shared between a caller and the operations it
// started (llmkit_cancel in the C API): any thread triggers it, waiting
// operations wake at once and end with CANCELLED.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace llmkit {

class Cancel {
 public:
  void trigger() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      triggered_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
  }
  bool triggered() const { return triggered_.load(std::memory_order_acquire); }

  // Sleeps up to `ns`; true when cancelled (before or during the wait).
  bool wait_for(std::int64_t ns) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return triggered(); });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::atomic<bool> triggered_{false};
};

}  // namespace llmkit
