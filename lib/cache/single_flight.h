// Stampede protection: callers that miss on the same key while one of them
// is asking upstream wait for its answer instead of all asking at once.
// Waits are bounded: after the timeout a waiter goes its own way.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "cache/key.h"
#include "cache/value.h"
#include "core/alloc.h"
#include "core/cancel.h"

namespace llmkit::cache {

class SingleFlight {
 public:
  struct Flight;

  // The flight of `key`: a new one, led by the caller (*lead = true), or
  // the one already under way. A flight older than `stale_ns` is presumed
  // lost (its filler hung or forgot to put or abandon): the caller leads it
  // too, and whichever filler lands first wakes its waiters.
  std::shared_ptr<Flight> join(const Key& key, std::int64_t stale_ns, bool* lead);

  enum class Outcome { kDone, kAbandoned, kTimedOut };
  // Waits until `flight` lands, is abandoned, `deadline` (a steady_clock
  // time in ns) passes, or `cancel` is triggered (CANCELLED). On kDone,
  // *value is what landed.
  Outcome wait(Flight& flight, std::int64_t deadline, const Cancel* cancel, ValueRef* value);

  // Lands the flight of `key`, if any, with `value`: its waiters get it.
  void land(const Key& key, const ValueRef& value);
  // Ends the flight of `key` without a value: its waiters try again.
  void abandon(const Key& key);

  static std::int64_t steady_ns() noexcept;

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept { return k.lo; }
  };
  void end(const Key& key, const ValueRef* value);

  std::mutex mutex_;
  std::unordered_map<Key, std::shared_ptr<Flight>, KeyHash, std::equal_to<>,
                     Allocator<std::pair<const Key, std::shared_ptr<Flight>>>>
      flights_;
};

}  // namespace llmkit::cache
