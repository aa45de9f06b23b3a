#include "trace/writer.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "core/error.h"

namespace llmkit::trace {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr std::int64_t kMaxWaitMs = std::int64_t{1} << 40;  // 34 years
// A batch of one row costs a transaction (a WAL write) or a COPY round
// trip: far more than the row. So the thread lets a batch gather this
// long, or to kFill records, unless a flush or the close waits for it
// (bench/trace_bench.cpp's "trace/pipeline" measures the difference).
constexpr std::chrono::milliseconds kLinger{10};
constexpr std::size_t kFill = 1024;

}  // namespace

Writer::Writer(Unique<Sink> sink, WriterSettings settings)
    : sink_(std::move(sink)), settings_(settings) {
  queue_.reserve(std::min<std::size_t>(settings_.queue, 4096));
  batch_.reserve(queue_.capacity());
  fill_ = std::min(kFill, settings_.queue);
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
    // The thread waits for a first record, then for a full batch: two
    // wakes per batch at most.
    const bool wake = queue_.size() == 1 || queue_.size() == fill_;
    lock.unlock();
    if (wake) work_.notify_one();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the mutex failed: nothing to count it in
  }
}

bool Writer::flush(std::int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  const std::int64_t target = accepted_;
  ++flushing_;  // the batch goes now, without gathering more
  work_.notify_one();
  // Clamped: a wait of "forever" (INT64_MAX) must not overflow the clock.
  const auto wait = std::chrono::milliseconds(std::clamp<std::int64_t>(timeout_ms, 0, kMaxWaitMs));
  const bool done = written_.wait_for(lock, wait, [&] { return done_ >= target; });
  --flushing_;
  return done && lost_ == 0;
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
    work_.wait_for(lock, kLinger,
                   [&] { return queue_.size() >= fill_ || closing_ || flushing_ > 0; });
    batch_.swap(queue_);
    room_.notify_all();
    const auto n = static_cast<std::int64_t>(batch_.size());
    const Outcome outcome = write_batch(lock);
    done_ += n;
    if (outcome == Outcome::kWritten) {
      stats_.written += n;
    } else if (outcome == Outcome::kRefused) {
      stats_.dropped += n;
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
    if (outcome == Outcome::kGaveUp) return;
  }
}

Writer::Outcome Writer::write_batch(std::unique_lock<std::mutex>& lock) noexcept {
  auto backoff = kFirstBackoff;
  for (;;) {
    lock.unlock();
    String error;
    bool again = true;
    try {
      sink_->write(batch_);
      lock.lock();
      stats_.failing = false;
      return Outcome::kWritten;
    } catch (const Error& e) {
      // Only a database out of reach comes back; a batch it refuses would
      // be refused forever, and hold up every record behind it.
      again = e.status() == LLMKIT_UNAVAILABLE;
      try {
        error = make_string(e.what());
      } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: the failure is counted alone
      }
    } catch (const std::exception& e) {
      try {
        error = make_string(e.what());
      } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: the failure is counted alone
      }
    } catch (...) {  // NOLINT(bugprone-empty-catch): counted below, without a message
    }
    lock.lock();
    ++stats_.failed_writes;
    stats_.failing = true;
    stats_.last_error = std::move(error);
    if (!again) return Outcome::kRefused;
    // Wait before the next try; a close in the meantime shortens the wait
    // to its deadline, and past that deadline there is no next try.
    const auto wake = Clock::now() + backoff;
    backoff = std::min(backoff * 2, kMaxBackoff);
    for (;;) {
      auto until = wake;
      if (closing_) {
        const Clock::time_point deadline{std::chrono::microseconds(close_deadline_us_)};
        if (Clock::now() >= deadline) return Outcome::kGaveUp;
        until = std::min(until, deadline);
      }
      if (Clock::now() >= until) break;
      const bool was_closing = closing_;
      work_.wait_until(lock, until, [&] { return closing_ != was_closing; });
    }
  }
}

}  // namespace llmkit::trace
