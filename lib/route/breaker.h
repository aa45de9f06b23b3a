// A circuit breaker for one deployment (a client's provider, base URL and
// one model): after too many failures it fails calls at once, without
// sending them, then lets a few probes through, and closes when they pass.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string_view>

#include "core/alloc.h"
#include "options/options.h"

namespace llmkit::route {

struct BreakerPolicy {
  bool enabled = true;              // "breaker": true or false
  double failure_rate = 0.5;        // "breaker.failure_rate": opens at this share of failures
  std::int64_t min_calls = 20;      // "breaker.min_calls": over at least this many calls
  std::int64_t window_ms = 30'000;  // "breaker.window_ms": counted over this rolling window
  std::int64_t open_ms = 30'000;    // "breaker.open_ms": open this long before probing
  std::int64_t probes = 1;          // "breaker.probes": trial calls at once while half-open

  // From the client's options; INVALID_ARGUMENT naming a bad value.
  static BreakerPolicy from(const Options& options);
};

class Breaker {
 public:
  enum class State { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
  enum class Outcome { kSuccess, kFailure, kNeither };  // neither: a cancel, a 4xx

  explicit Breaker(const BreakerPolicy& policy) : policy_(policy) {}

  // Whether a call may be sent now: always when closed; never while open
  // (counted as rejected); while half-open, up to `probes` at a time. A call
  // admitted must be reported to done(), once.
  bool admit(std::int64_t now_ms);
  void done(Outcome outcome, std::int64_t now_ms);
  // Whether admit() would refuse now; changes nothing.
  bool refusing(std::int64_t now_ms);

  struct Stats {
    State state = State::kClosed;
    std::int64_t opened = 0;        // times it opened
    std::int64_t rejected = 0;      // calls failed at once while open
    std::int64_t calls = 0;         // in the window now
    std::int64_t failures = 0;      // in the window now
    std::int64_t retry_in_ms = 0;   // open: until the next probe
    std::int64_t recent_opens = 0;  // times it opened in the last kRecentMs, up to kRecentOpens
  };
  // What "recent" is for Stats::recent_opens: a breaker that opens this
  // often flaps (docs/metrics.md).
  static constexpr std::int64_t kRecentMs = 600'000;
  static constexpr std::size_t kRecentOpens = 4;
  Stats stats(std::int64_t now_ms);

 private:
  // The window in kBuckets slices, so that old calls fall out a slice at a
  // time with O(1) work per call.
  static constexpr int kBuckets = 10;
  struct Bucket {
    std::int64_t slice = -1;  // which slice of time it counts
    std::int64_t calls = 0;
    std::int64_t failures = 0;
  };

  // Clears the slices that left the window; returns the one counting now.
  Bucket& roll(std::int64_t now_ms);
  void open(std::int64_t now_ms);

  const BreakerPolicy policy_;
  std::mutex mutex_;
  State state_ = State::kClosed;
  std::array<Bucket, kBuckets> buckets_{};
  std::int64_t open_until_ms_ = 0;
  std::int64_t probing_ = 0;  // half-open: probes in flight
  std::int64_t opened_ = 0;
  std::int64_t rejected_ = 0;
  std::array<std::int64_t, kRecentOpens> opened_at_ms_{};  // the last opens, a ring by opened_
};

// One breaker per deployment of a client, made on first use.
class Breakers {
 public:
  explicit Breakers(const BreakerPolicy& policy) : policy_(policy) {}
  const BreakerPolicy& policy() const { return policy_; }
  // Stable: breakers are never removed. Thread safety: any thread.
  Breaker& of(std::string_view model);
  // nullptr when no call has gone to `model` yet.
  Breaker* find(std::string_view model);
  // Calls `fn(name, breaker)` for each breaker made so far, in name order.
  template <class F>
  void for_each(F&& fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [name, breaker] : by_model_) fn(std::string_view(name), breaker);
  }

 private:
  const BreakerPolicy policy_;
  std::mutex mutex_;
  std::map<String, Breaker, std::less<>, Allocator<std::pair<const String, Breaker>>> by_model_;
};

}  // namespace llmkit::route
