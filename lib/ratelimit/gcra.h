// GCRA (the generic cell rate algorithm): one rate limit as a single
// integer, the theoretical arrival time (TAT), in nanoseconds. The same
// arithmetic serves every backend (in-process, shared memory, the Redis Lua
// script), so all of them admit exactly the same sequence.
//
// A limit of `limit` units per `window` emits one unit every
// interval = ceil(window / limit) ns (rounding up never admits more than
// the limit) and tolerates a burst of `burst` units above the steady rate:
// a request of n units at `now` is admitted iff
//     max(tat, now) + n * interval - now <= (limit_at_once) * interval
// where limit_at_once = burst. Admitting moves tat there; refusing leaves it.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>

namespace llmkit::ratelimit {

// The largest burst * interval a Rate may have: about 36 years, a quarter
// of the int64 range, so TATs and their sums stay representable.
inline constexpr std::int64_t kMaxTolerance = INT64_MAX / 4;

struct Rate {
  std::int64_t interval_ns = 0;  // ns per unit; 0 = unlimited
  std::int64_t burst = 0;        // units that may be taken at once (>= 1)

  static Rate per_window(std::int64_t limit, std::int64_t window_ns, std::int64_t burst) {
    if (limit <= 0) return {};
    return {(window_ns + limit - 1) / limit, std::max<std::int64_t>(burst, 1)};
  }
  bool unlimited() const { return interval_ns == 0; }
  std::int64_t tolerance_ns() const { return burst * interval_ns; }
};

struct Verdict {
  bool allowed;
  std::int64_t new_tat;         // the TAT to store when allowed
  std::int64_t remaining;       // units still admissible now, after this request if allowed
  std::int64_t retry_after_ns;  // when refused: wait this long, then the same request fits
};

// Decides a request of `cost` units at `now` against stored `tat`.
// A cost above the burst can never be admitted: retry_after is -1.
// Rates are validated so that burst * interval <= kMaxTolerance, which
// keeps every sum below from overflowing.
inline Verdict gcra(const Rate& r, std::int64_t tat, std::int64_t now, std::int64_t cost) {
  if (r.unlimited()) return {true, tat, INT64_MAX, 0};
  const std::int64_t base = std::max(tat, now);
  if (cost > r.burst) {
    const std::int64_t left =
        std::max<std::int64_t>(0, (r.tolerance_ns() - (base - now)) / r.interval_ns);
    return {false, tat, left, -1};
  }
  const std::int64_t new_tat = base + cost * r.interval_ns;
  const std::int64_t over = new_tat - now - r.tolerance_ns();
  if (over <= 0) {
    return {true, new_tat, -over / r.interval_ns, 0};
  }
  const std::int64_t left =
      std::max<std::int64_t>(0, (r.tolerance_ns() - (base - now)) / r.interval_ns);
  if (cost > r.burst) return {false, tat, left, -1};
  return {false, tat, left, over};
}

}  // namespace llmkit::ratelimit
