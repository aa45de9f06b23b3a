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
  // A hook for waits that cannot block on wait_for(): an event loop
  // registers one to be woken (the HTTP transport's curl_multi_wakeup). The
  // owner keeps it alive and unmoved from watch() until unwatch() returns.
  class Watch {
   public:
    Watch(void (*fn)(void* ctx), void* ctx) : fn_(fn), ctx_(ctx) {}
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    ~Watch() = default;

   private:
    friend class Cancel;
    void (*fn_)(void*);
    void* ctx_;
    Watch* prev_ = nullptr;
    Watch* next_ = nullptr;
  };

  void trigger() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (triggered_.exchange(true, std::memory_order_acq_rel)) return;
      // Under the lock, so that unwatch() returning means "not running".
      for (const Watch* w = watches_; w != nullptr; w = w->next_) w->fn_(w->ctx_);
    }
    cv_.notify_all();
  }
  bool triggered() const { return triggered_.load(std::memory_order_acquire); }

  // Sleeps up to `ns`; true when cancelled (before or during the wait).
  bool wait_for(std::int64_t ns) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return triggered(); });
  }

  // Registers `w`: the first trigger() after this calls w's fn(ctx) on the
  // triggering thread, under this Cancel's lock, so fn must be quick, must
  // not block and must not call back into this Cancel. A trigger() that came
  // before is not replayed: check triggered() after watch(). No allocation.
  void watch(Watch& w) const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    w.prev_ = nullptr;
    w.next_ = watches_;
    if (watches_ != nullptr) watches_->prev_ = &w;
    watches_ = &w;
  }

  // Removes `w`; once this returns its fn is not running and never will.
  void unwatch(Watch& w) const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (w.prev_ != nullptr) {
      w.prev_->next_ = w.next_;
    } else if (watches_ == &w) {
      watches_ = w.next_;
    }
    if (w.next_ != nullptr) w.next_->prev_ = w.prev_;
    w.prev_ = w.next_ = nullptr;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  mutable Watch* watches_ = nullptr;
  std::atomic<bool> triggered_{false};
};

}  // namespace llmkit
