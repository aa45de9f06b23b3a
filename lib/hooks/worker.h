// The thread that runs async hooks, fed through a bounded queue, so slow
// work (a database write, analytics) adds nothing to a call's latency.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/alloc.h"
#include "hooks/event.h"

namespace llmkit::hooks {

struct Hook;

class Worker {
 public:
  using RunFn = std::function<void(Hook&, Event&)>;

  // The thread starts with the first push.
  Worker(std::size_t capacity, RunFn run);
  // Runs what is queued, then stops.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Queues `hook` to run on `event`. A full queue: false (dropped), or with
  // `block`, waits for room. Thread safety: any thread.
  bool push(std::shared_ptr<Hook> hook, std::shared_ptr<Event> event, bool block);
  // Returns once everything queued before it has run.
  void flush();

 private:
  struct Job {
    std::shared_ptr<Hook> hook;
    std::shared_ptr<Event> event;
  };
  void main() noexcept;

  const std::size_t capacity_;
  const RunFn run_;
  std::mutex mutex_;
  std::condition_variable has_work_, has_room_, idle_;
  std::deque<Job, Allocator<Job>> queue_;
  bool busy_ = false;  // a job is running
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace llmkit::hooks
