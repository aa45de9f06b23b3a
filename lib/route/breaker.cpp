#include "route/breaker.h"

#include <algorithm>
#include <tuple>

namespace llmkit::route {

BreakerPolicy BreakerPolicy::from(const Options& options) {
  constexpr std::int64_t kDay = 86'400'000;
  BreakerPolicy p;
  p.enabled = options.get_bool("breaker").value_or(true);
  p.failure_rate = options.get_double("breaker.failure_rate", p.failure_rate, 0.01, 1);
  p.min_calls = options.get_int("breaker.min_calls", p.min_calls, 1, 1'000'000);
  p.window_ms = options.get_int("breaker.window_ms", p.window_ms, 10, kDay);
  p.open_ms = options.get_int("breaker.open_ms", p.open_ms, 1, kDay);
  p.probes = options.get_int("breaker.probes", p.probes, 1, 1000);
  return p;
}

Breaker::Bucket& Breaker::roll(std::int64_t now_ms) {
  const std::int64_t width = std::max<std::int64_t>(policy_.window_ms / kBuckets, 1);
  const std::int64_t slice = now_ms / width;
  for (Bucket& b : buckets_) {
    if (b.slice <= slice - kBuckets) b = Bucket{};
  }
  Bucket& current = buckets_[static_cast<std::size_t>(slice % kBuckets)];
  if (current.slice != slice) current = Bucket{slice, 0, 0};
  return current;
}

void Breaker::open(std::int64_t now_ms) {
  state_ = State::kOpen;
  open_until_ms_ = now_ms + policy_.open_ms;
  probing_ = 0;
  opened_at_ms_[static_cast<std::size_t>(opened_) % kRecentOpens] = now_ms;
  ++opened_;
  buckets_.fill(Bucket{});  // closing later starts a fresh count
}

bool Breaker::refusing(std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  switch (state_) {
    case State::kClosed:
      return false;
    case State::kOpen:
      return now_ms < open_until_ms_;
    case State::kHalfOpen:
      return probing_ >= policy_.probes;
  }
  return false;
}

bool Breaker::admit(std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_ == State::kOpen && now_ms >= open_until_ms_) state_ = State::kHalfOpen;
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kHalfOpen:
      if (probing_ < policy_.probes) {
        ++probing_;
        return true;
      }
      [[fallthrough]];
    case State::kOpen:
      ++rejected_;
      return false;
  }
  return true;
}

void Breaker::done(Outcome outcome, std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_ == State::kHalfOpen) {
    probing_ = std::max<std::int64_t>(probing_ - 1, 0);
    if (outcome == Outcome::kFailure) {
      open(now_ms);  // the probe failed: another full wait
    } else if (outcome == Outcome::kSuccess) {
      state_ = State::kClosed;
    }
    return;
  }
  if (state_ != State::kClosed || outcome == Outcome::kNeither) return;
  Bucket& b = roll(now_ms);
  ++b.calls;
  if (outcome == Outcome::kFailure) ++b.failures;
  std::int64_t calls = 0;
  std::int64_t failures = 0;
  for (const Bucket& x : buckets_) {
    calls += x.calls;
    failures += x.failures;
  }
  if (calls >= policy_.min_calls &&
      static_cast<double>(failures) >= policy_.failure_rate * static_cast<double>(calls)) {
    open(now_ms);
  }
}

Breaker::Stats Breaker::stats(std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_ == State::kOpen && now_ms >= open_until_ms_) state_ = State::kHalfOpen;
  if (state_ == State::kClosed) roll(now_ms);
  Stats s;
  s.state = state_;
  s.opened = opened_;
  s.rejected = rejected_;
  for (const Bucket& b : buckets_) {
    s.calls += b.calls;
    s.failures += b.failures;
  }
  s.retry_in_ms = state_ == State::kOpen ? open_until_ms_ - now_ms : 0;
  const auto recorded = std::min<std::int64_t>(opened_, kRecentOpens);
  for (std::int64_t i = 0; i < recorded; ++i) {
    if (now_ms - opened_at_ms_[static_cast<std::size_t>(i)] < kRecentMs) ++s.recent_opens;
  }
  return s;
}

Breaker& Breakers::of(std::string_view model) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_model_.find(model);
  if (it == by_model_.end()) {
    it = by_model_
             .emplace(std::piecewise_construct, std::forward_as_tuple(make_string(model)),
                      std::forward_as_tuple(policy_))
             .first;
  }
  return it->second;
}

Breaker* Breakers::find(std::string_view model) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = by_model_.find(model);
  return it == by_model_.end() ? nullptr : &it->second;
}

}  // namespace llmkit::route
