#include "cache/single_flight.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace llmkit::cache {

struct SingleFlight::Flight {
  std::condition_variable landed;
  ValueRef value;  // guarded by SingleFlight::mutex_, as are the flags
  bool done = false;
  bool abandoned = false;
  std::int64_t started = 0;  // steady_ns() when its (last) filler joined
};

std::int64_t SingleFlight::steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<SingleFlight::Flight> SingleFlight::join(const Key& key, std::int64_t stale_ns,
                                                         bool* lead) {
  const std::int64_t now = steady_ns();
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, fresh] = flights_.try_emplace(key);
  if (fresh) it->second = std::allocate_shared<Flight>(Allocator<Flight>());
  Flight& f = *it->second;
  *lead = fresh || now - f.started >= stale_ns;
  if (*lead) f.started = now;
  return it->second;
}

SingleFlight::Outcome SingleFlight::wait(Flight& flight, std::int64_t deadline,
                                         const Cancel* cancel, ValueRef* value) {
  // A cancel signal cannot wake this condition variable, so with one the
  // wait is sliced: a cancelled waiter leaves within 2 ms.
  constexpr std::int64_t kSlice = 2'000'000;
  // condition_variable::wait_for adds the duration to now(): one of years
  // would overflow and return at once, so long waits go an hour at a time.
  constexpr std::int64_t kMaxSlice = 3'600'000'000'000;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (flight.done) {
      *value = flight.value;
      return Outcome::kDone;
    }
    if (flight.abandoned) return Outcome::kAbandoned;
    if (cancel != nullptr && cancel->triggered()) fail(LLMKIT_CANCELLED, "cancelled");
    const std::int64_t now = steady_ns();
    if (now >= deadline) return Outcome::kTimedOut;
    const std::int64_t until =
        now + std::min(deadline - now, cancel == nullptr ? kMaxSlice : kSlice);
    flight.landed.wait_for(lock, std::chrono::nanoseconds(until - now));
  }
}

void SingleFlight::end(const Key& key, const ValueRef* value) {
  std::shared_ptr<Flight> flight;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = flights_.find(key);
    if (it == flights_.end()) return;
    flight = std::move(it->second);
    flights_.erase(it);
    if (value != nullptr) {
      flight->value = *value;
      flight->done = true;
    } else {
      flight->abandoned = true;
    }
  }
  flight->landed.notify_all();
}

void SingleFlight::land(const Key& key, const ValueRef& value) {
  end(key, &value);
}

void SingleFlight::abandon(const Key& key) {
  end(key, nullptr);
}

}  // namespace llmkit::cache
