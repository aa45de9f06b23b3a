#include "hooks/worker.h"

#include <utility>

namespace llmkit::hooks {

Worker::Worker(std::size_t capacity, RunFn run) : capacity_(capacity), run_(std::move(run)) {}

Worker::~Worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  has_work_.notify_one();
  has_room_.notify_all();  // blocked pushers give up: nobody will make room
  if (thread_.joinable()) thread_.join();
}

bool Worker::push(std::shared_ptr<Hook> hook, std::shared_ptr<Event> event, bool block) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (block) has_room_.wait(lock, [&] { return queue_.size() < capacity_ || stopping_; });
    if (queue_.size() >= capacity_ || stopping_) return false;
    queue_.push_back({std::move(hook), std::move(event)});
    if (!thread_.joinable()) thread_ = std::thread(&Worker::main, this);
  }
  has_work_.notify_one();
  return true;
}

void Worker::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void Worker::main() noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    has_work_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, and everything ran
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    has_room_.notify_one();
    run_(*job.hook, *job.event);  // noexcept: Registry::call catches
    job = {};                     // the event's memory goes before the lock
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace llmkit::hooks
