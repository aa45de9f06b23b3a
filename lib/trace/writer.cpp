#include "trace/writer.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

namespace llmkit::trace {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr std::int64_t kMaxWaitMs = std::int64_t{1} << 40;  // 34 years

}  // namespace

Writer::Writer(Unique<Sink> sink, WriterSettings settings)
    : sink_(std::move(sink)), settings_(settings) {
  queue_.reserve(std::min<std::size_t>(settings_.queue, 4096));
  batch_.reserve(queue_.capacity());
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() {
  close(settings_.close_timeout_ms);
}

void Writer::push(Record&& record) noexcept {
  try {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!closing_ && queue_.size() >= settings_.queue && settings_.block) {
      room_.wait(lock, [&] { return queue_.size() < settings_.queue || closing_; });
    }
    if (closing_ || queue_.size() >= settings_.queue) {
      ++stats_.dropped;
      return;
    }
    try {
      queue_.push_back(std::move(record));
    } catch (...) {  // no memory: the record is lost, and says so
      ++stats_.dropped;
      return;
    }
    ++accepted_;
    // The thread waits only on an empty queue: one wake per batch.
    const bool wake = queue_.size() == 1;
    lock.unlock();
    if (wake) work_.notify_one();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the mutex failed: nothing to count it in
  }
}

bool Writer::flush(std::int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  const std::int64_t target = accepted_;
  // Clamped: a wait of "forever" (INT64_MAX) must not overflow the clock.
  const auto wait = std::chrono::milliseconds(std::clamp<std::int64_t>(timeout_ms, 0, kMaxWaitMs));
  return written_.wait_for(lock, wait, [&] { return done_ >= target; }) && lost_ == 0;
}

std::int64_t Writer::close(std::int64_t timeout_ms) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!closing_) {
      closing_ = true;
      close_deadline_us_ =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
              .count() +
          std::clamp<std::int64_t>(timeout_ms, 0, kMaxWaitMs) * 1000;
    }
  }
  work_.notify_all();
  room_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  return lost_;
}

WriterStats Writer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  WriterStats s = stats_;
  s.queued = accepted_ - done_;
  return s;
}

void Writer::run() noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (queue_.empty()) return;  // closing, and everything is written
    batch_.swap(queue_);
    room_.notify_all();
    const auto n = static_cast<std::int64_t>(batch_.size());
    const bool ok = write_batch(lock);
    done_ += n;
    if (ok) {
      stats_.written += n;
    } else {
      // Closing past the deadline with the sink still failing: what is left
      // is lost, and counted.
      const auto left = n + static_cast<std::int64_t>(queue_.size());
      done_ += left - n;
      lost_ += left;
      stats_.dropped += left;
      queue_.clear();
    }
    lock.unlock();
    batch_.clear();  // the records' memory is freed outside the lock
    written_.notify_all();
    lock.lock();
    if (!ok) return;
  }
}

bool Writer::write_batch(std::unique_lock<std::mutex>& lock) noexcept {
  auto backoff = kFirstBackoff;
  for (;;) {
    lock.unlock();
    String error;
    try {
      sink_->write(batch_);
      lock.lock();
      return true;
    } catch (const std::exception& e) {
      try {
        error = make_string(e.what());
      } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: the failure is counted alone
      }
    } catch (...) {  // NOLINT(bugprone-empty-catch): counted below, without a message
    }
    lock.lock();
    ++stats_.failed_writes;
    stats_.last_error = std::move(error);
    // Wait before the next try; a close in the meantime shortens the wait
    // to its deadline, and past that deadline there is no next try.
    const auto wake = Clock::now() + backoff;
    backoff = std::min(backoff * 2, kMaxBackoff);
    for (;;) {
      auto until = wake;
      if (closing_) {
        const Clock::time_point deadline{std::chrono::microseconds(close_deadline_us_)};
        if (Clock::now() >= deadline) return false;
        until = std::min(until, deadline);
      }
      if (Clock::now() >= until) break;
      const bool was_closing = closing_;
      work_.wait_until(lock, until, [&] { return closing_ != was_closing; });
    }
  }
}

}  // namespace llmkit::trace
