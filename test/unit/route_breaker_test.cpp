#include "route/breaker.h"

#include <gtest/gtest.h>

#include "status_of.h"

namespace llmkit::route {
namespace {

using Outcome = Breaker::Outcome;
using State = Breaker::State;

BreakerPolicy policy(std::int64_t min_calls = 4, double rate = 0.5) {
  BreakerPolicy p;
  p.min_calls = min_calls;
  p.failure_rate = rate;
  p.window_ms = 1000;
  p.open_ms = 500;
  return p;
}

// Sends `n` calls at `now` ending with `outcome`.
void calls(Breaker& b, int n, Outcome outcome, std::int64_t now) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(b.admit(now));
    b.done(outcome, now);
  }
}

TEST(RouteBreaker, OpensAtTheFailureRateOnceThereIsEnoughVolume) {
  Breaker b(policy());
  calls(b, 3, Outcome::kFailure, 0);  // 3 of 3 failed, but below min_calls
  EXPECT_EQ(b.stats(0).state, State::kClosed);
  calls(b, 1, Outcome::kFailure, 0);
  const Breaker::Stats s = b.stats(0);
  EXPECT_EQ(s.state, State::kOpen);
  EXPECT_EQ(s.opened, 1);
  EXPECT_EQ(s.retry_in_ms, 500);
}

TEST(RouteBreaker, StaysClosedBelowTheRate) {
  Breaker b(policy(4, 0.75));
  calls(b, 2, Outcome::kFailure, 0);
  calls(b, 2, Outcome::kSuccess, 0);  // 2 of 4: under 0.75
  EXPECT_EQ(b.stats(0).state, State::kClosed);
  // 4xx and cancels are no one's failure: they change nothing.
  calls(b, 10, Outcome::kNeither, 0);
  const Breaker::Stats s = b.stats(0);
  EXPECT_EQ(s.state, State::kClosed);
  EXPECT_EQ(s.calls, 4);
  EXPECT_EQ(s.failures, 2);
}

TEST(RouteBreaker, OldCallsLeaveTheWindow) {
  Breaker b(policy());
  calls(b, 3, Outcome::kFailure, 0);
  // 1.1 s later the three are out of the 1 s window: one more failure is 1 of 1.
  calls(b, 1, Outcome::kFailure, 1100);
  const Breaker::Stats s = b.stats(1100);
  EXPECT_EQ(s.state, State::kClosed);
  EXPECT_EQ(s.calls, 1);
}

TEST(RouteBreaker, WhileOpenItRejectsThenAProbeDecides) {
  Breaker b(policy());
  calls(b, 4, Outcome::kFailure, 0);
  EXPECT_FALSE(b.admit(100));
  EXPECT_FALSE(b.admit(499));
  EXPECT_EQ(b.stats(499).rejected, 2);
  // Half-open: one probe at a time.
  ASSERT_TRUE(b.admit(500));
  EXPECT_EQ(b.stats(500).state, State::kHalfOpen);
  EXPECT_FALSE(b.admit(500));
  // The probe fails: open again, for another full wait.
  b.done(Outcome::kFailure, 510);
  EXPECT_EQ(b.stats(510).state, State::kOpen);
  EXPECT_EQ(b.stats(510).opened, 2);
  EXPECT_FALSE(b.admit(1000));
  // The next probe passes: closed, with a fresh count.
  ASSERT_TRUE(b.admit(1010));
  b.done(Outcome::kSuccess, 1020);
  const Breaker::Stats s = b.stats(1020);
  EXPECT_EQ(s.state, State::kClosed);
  EXPECT_EQ(s.calls, 0);
  EXPECT_TRUE(b.admit(1020));
}

TEST(RouteBreaker, AProbeThatSettlesNothingFreesItsSlot) {
  Breaker b(policy());
  calls(b, 4, Outcome::kFailure, 0);
  ASSERT_TRUE(b.admit(600));
  b.done(Outcome::kNeither, 600);  // cancelled: still half-open, slot free
  EXPECT_EQ(b.stats(600).state, State::kHalfOpen);
  EXPECT_TRUE(b.admit(600));
}

TEST(RouteBreaker, BreakersAreOnePerModel) {
  Breakers all(policy());
  Breaker& a = all.of("gpt-4o");
  calls(a, 4, Outcome::kFailure, 0);
  EXPECT_EQ(&all.of("gpt-4o"), &a);
  EXPECT_TRUE(all.of("gpt-4o-mini").admit(0));
  EXPECT_EQ(all.find("claude"), nullptr);
}

TEST(RouteBreaker, OptionsAreChecked) {
  Options o;
  o.set("breaker.failure_rate", "1.5");
  EXPECT_EQ(status_of([&] { BreakerPolicy::from(o); }), LLMKIT_INVALID_ARGUMENT);
  o.set("breaker.failure_rate", "0.25");
  o.set("breaker", "false");
  const BreakerPolicy p = BreakerPolicy::from(o);
  EXPECT_FALSE(p.enabled);
  EXPECT_DOUBLE_EQ(p.failure_rate, 0.25);
  o.set("breaker.min_calls", "0");
  EXPECT_EQ(status_of([&] { BreakerPolicy::from(o); }), LLMKIT_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace llmkit::route
