// The background writer between calls and a trace sink: calls queue their
// records (never waiting on the database), one thread writes everything
// queued as one batch, and a batch that failed because the database is out
// of reach (UNAVAILABLE) is kept and written again, with a backoff, while
// new records queue behind it; one the database refuses for another reason
// is dropped and counted (docs/traces.md).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "core/alloc.h"
#include "trace/record.h"
#include "trace/sink.h"

namespace llmkit::trace {

struct WriterSettings {
  std::size_t queue = 10000;              // records waiting at most, the batch being written aside
  bool block = false;                     // a full queue: wait for room (true) or drop the record
  std::int64_t close_timeout_ms = 10000;  // how long the destructor waits for a failing sink
};

struct WriterStats {
  std::int64_t written = 0;
  std::int64_t dropped = 0;        // the queue was full, or the sink refused their batch
  std::int64_t failed_writes = 0;  // batches the sink refused (each written again later)
  std::int64_t queued = 0;         // accepted, not yet written
  String last_error;               // the sink's last failure, "" when none yet
  bool failing = false;            // the last write failed: none has succeeded since
};

class Writer {
 public:
  Writer(Unique<Sink> sink, WriterSettings settings);
  // close() with the settings' close_timeout_ms.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues `record`; when the queue is full, drops it (counted) or waits
  // for room. Hot path (bench/trace_bench.cpp): one lock, one move.
  // Thread safety: any thread.
  void push(Record&& record) noexcept;

  // Waits until every record queued before this call is written, at most
  // `timeout_ms`; false when some are not (the sink failing: last_error).
  // Thread safety: any thread.
  bool flush(std::int64_t timeout_ms);

  // Writes everything queued and stops the thread; while the sink fails it
  // keeps trying for `timeout_ms`, then gives up. Returns how many records
  // were lost that way (also counted as dropped). Later pushes are
  // dropped. Thread safety: any thread, once.
  std::int64_t close(std::int64_t timeout_ms);

  WriterStats stats() const;

 private:
  void run() noexcept;
  enum class Outcome { kWritten, kRefused, kGaveUp };
  // Writes `batch_`, trying again while the sink is UNAVAILABLE; kRefused
  // for another failure, kGaveUp when the writer closed and its deadline
  // passed.
  Outcome write_batch(std::unique_lock<std::mutex>& lock) noexcept;

  Unique<Sink> sink_;
  const WriterSettings settings_;
  mutable std::mutex mutex_;
  std::condition_variable work_;     // to the thread: records queued, or closing
  std::condition_variable room_;     // to blocked pushers
  std::condition_variable written_;  // to flush()
  Vector<Record> queue_;
  Vector<Record> batch_;  // being written; only the thread touches it
  std::int64_t accepted_ = 0;
  std::int64_t done_ = 0;  // written or lost, in the order they were accepted
  std::int64_t lost_ = 0;
  std::size_t fill_ = 0;  // a batch this big goes at once
  int flushing_ = 0;      // flush() calls waiting
  WriterStats stats_;
  bool closing_ = false;
  std::int64_t close_deadline_us_ = 0;
  std::thread thread_;
};

}  // namespace llmkit::trace
