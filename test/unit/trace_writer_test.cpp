// The background writer: a full queue drops (counted) or blocks, flush
// waits for what was queued before it, a failing sink is retried while
// records queue, and closing writes everything or counts what it lost.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "trace/writer.h"

namespace llmkit::trace {
namespace {

// A sink the test steers: it can hold a batch until opened, or fail.
struct Control {
  std::mutex mutex;
  std::condition_variable changed;
  bool held = false;      // write() waits while set
  bool failing = false;   // write() throws UNAVAILABLE while set
  bool refusing = false;  // write() throws INVALID_ARGUMENT while set
  int entered = 0;        // write() calls begun
  std::vector<std::string> ids;

  void set(bool Control::*flag, bool value) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      this->*flag = value;
    }
    changed.notify_all();
  }
  // Waits until write() has begun `n` times.
  bool wait_entered(int n) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return entered >= n; });
  }
};

class TestSink final : public Sink {
 public:
  explicit TestSink(std::shared_ptr<Control> c) : c_(std::move(c)) {}
  void write(std::span<const Record> batch) override {
    std::unique_lock<std::mutex> lock(c_->mutex);
    ++c_->entered;
    c_->changed.notify_all();
    c_->changed.wait(lock, [&] { return !c_->held; });
    if (c_->failing) fail(LLMKIT_UNAVAILABLE, "the test's database is down");
    if (c_->refusing) fail(LLMKIT_INVALID_ARGUMENT, "the test's database refuses it");
    for (const Record& r : batch) c_->ids.emplace_back(r.call_id);
  }

 private:
  std::shared_ptr<Control> c_;
};

Record record(int i) {
  Record r;
  r.call_id = make_string(std::to_string(i));
  return r;
}

std::unique_ptr<Writer> writer(const std::shared_ptr<Control>& c, std::size_t queue,
                               bool block = false) {
  WriterSettings s;
  s.queue = queue;
  s.block = block;
  s.close_timeout_ms = 10000;
  return std::make_unique<Writer>(Unique<Sink>(create<TestSink>(c)), s);
}

TEST(TraceWriter, AFullQueueDropsAndCounts) {
  auto c = std::make_shared<Control>();
  c->set(&Control::held, true);
  auto w = writer(c, 2);
  w->push(record(0));
  ASSERT_TRUE(c->wait_entered(1));  // record 0 is the batch being written
  for (int i = 1; i <= 4; ++i) w->push(record(i));
  EXPECT_EQ(w->stats().dropped, 2);
  EXPECT_EQ(w->stats().queued, 3);
  c->set(&Control::held, false);
  ASSERT_TRUE(w->flush(10000));
  EXPECT_EQ(c->ids, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(w->stats().written, 3);
  EXPECT_EQ(w->stats().queued, 0);
}

TEST(TraceWriter, AFullQueueBlocksUntilThereIsRoom) {
  auto c = std::make_shared<Control>();
  c->set(&Control::held, true);
  auto w = writer(c, 1, true);
  w->push(record(0));
  ASSERT_TRUE(c->wait_entered(1));
  w->push(record(1));
  auto third = std::async(std::launch::async, [&] { w->push(record(2)); });
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  c->set(&Control::held, false);
  third.get();
  ASSERT_TRUE(w->flush(10000));
  EXPECT_EQ(c->ids, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(w->stats().dropped, 0);
}

TEST(TraceWriter, AFailingSinkIsRetriedAndFlushWaitsForIt) {
  auto c = std::make_shared<Control>();
  c->set(&Control::failing, true);
  auto w = writer(c, 100);
  w->push(record(0));
  EXPECT_FALSE(w->flush(300));  // 100 ms, then 200 ms: at least two tries
  EXPECT_GE(w->stats().failed_writes, 2);
  EXPECT_EQ(w->stats().last_error, "the test's database is down");
  w->push(record(1));  // queues behind the failing batch
  EXPECT_EQ(w->stats().queued, 2);
  c->set(&Control::failing, false);
  ASSERT_TRUE(w->flush(10000));
  EXPECT_EQ(c->ids, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(w->stats().written, 2);
}

TEST(TraceWriter, ABatchTheSinkRefusesIsDroppedNotRetried) {
  auto c = std::make_shared<Control>();
  c->set(&Control::refusing, true);
  auto w = writer(c, 100);
  w->push(record(0));
  ASSERT_TRUE(w->flush(10000));  // done with: not waiting on a retry
  EXPECT_EQ(w->stats().dropped, 1);
  EXPECT_EQ(w->stats().failed_writes, 1);
  EXPECT_EQ(w->stats().last_error, "the test's database refuses it");
  c->set(&Control::refusing, false);
  w->push(record(1));
  ASSERT_TRUE(w->flush(10000));
  EXPECT_EQ(c->ids, (std::vector<std::string>{"1"}));
  EXPECT_EQ(c->entered, 2);
}

TEST(TraceWriter, ClosingWritesEverythingQueued) {
  auto c = std::make_shared<Control>();
  c->set(&Control::held, true);
  auto w = writer(c, 100000);
  for (int i = 0; i < 5000; ++i) w->push(record(i));
  ASSERT_TRUE(c->wait_entered(1));
  c->set(&Control::held, false);
  EXPECT_EQ(w->close(10000), 0);
  EXPECT_EQ(c->ids.size(), 5000u);
  EXPECT_EQ(c->ids.back(), "4999");
  w->push(record(5000));  // after close: dropped
  EXPECT_EQ(w->stats().dropped, 1);
}

TEST(TraceWriter, ClosingGivesUpOnADeadSinkAfterItsTimeoutAndCountsTheLoss) {
  auto c = std::make_shared<Control>();
  c->set(&Control::failing, true);
  auto w = writer(c, 100);
  for (int i = 0; i < 3; ++i) w->push(record(i));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(w->close(250), 3);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(w->stats().dropped, 3);
  EXPECT_GE(w->stats().failed_writes, 2);
  EXPECT_TRUE(c->ids.empty());
}

}  // namespace
}  // namespace llmkit::trace
