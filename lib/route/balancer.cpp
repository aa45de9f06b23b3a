#include "route/balancer.h"

// Header-only, as the rate limiter uses it: no library to link.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <random>
#include <string>

#include "core/error.h"

namespace llmkit::route {
namespace {

// The weight of the newest answer in the latency average: about the last
// ten answers count.
constexpr double kAlpha = 0.2;

// Among the usable candidates that are not split off (or all usable ones,
// when only split ones are left), by weight at random.
std::optional<std::size_t> by_weight(std::span<const Candidate> c, std::span<const bool> in,
                                     double draw) {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (in[i]) total += c[i].weight;
  }
  if (total == 0) return std::nullopt;
  auto at = static_cast<std::int64_t>(draw * static_cast<double>(total));
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!in[i]) continue;
    if (at < c[i].weight) return i;
    at -= c[i].weight;
  }
  return std::nullopt;  // not reached: draw < 1
}

// The candidates with the lowest figure; among equals, by weight.
template <typename Figure>
std::optional<std::size_t> lowest(std::span<const Candidate> c, std::span<bool> in, double draw,
                                  Figure figure) {
  std::int64_t best = std::numeric_limits<std::int64_t>::max();
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (in[i]) best = std::min(best, figure(c[i]));
  }
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (in[i] && figure(c[i]) != best) in[i] = false;
  }
  return by_weight(c, in, draw);
}

}  // namespace

Strategy strategy_of(const Options& options) {
  const std::string_view s = options.get_string("route.strategy", "weighted");
  if (s == "weighted") return Strategy::kWeighted;
  if (s == "least_inflight") return Strategy::kLeastInFlight;
  if (s == "latency") return Strategy::kLatency;
  fail(LLMKIT_INVALID_ARGUMENT,
       R"("route.strategy" must be weighted, least_inflight or latency, not ")" + std::string(s) +
           "\"");
}

void Load::end(std::int64_t latency_us) noexcept {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  if (latency_us < 0) return;
  std::int64_t old = latency_us_.load(std::memory_order_relaxed);
  std::int64_t next = 0;
  do {
    next = old < 0 ? latency_us
                   : static_cast<std::int64_t>(kAlpha * static_cast<double>(latency_us) +
                                               (1 - kAlpha) * static_cast<double>(old));
  } while (!latency_us_.compare_exchange_weak(old, next, std::memory_order_relaxed));
}

std::optional<std::size_t> pick(std::span<const Candidate> candidates, Strategy strategy,
                                double sticky, double draw) {
  constexpr std::size_t kMax = 64;
  bool in_buf[kMax];
  std::unique_ptr<bool[]> in_heap;
  bool* in = in_buf;
  if (candidates.size() > kMax) {
    in_heap = std::make_unique<bool[]>(candidates.size());
    in = in_heap.get();
  }
  // The split: [0, s1) goes to the first split deployment, [s1, s1 + s2)
  // to the second, and so on; the rest of [0, 100) to the others.
  const double point = sticky * 100;
  double edge = 0;
  bool any_rest = false;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (c.split > 0) {
      const bool mine = point >= edge && point < edge + c.split;
      edge += c.split;
      if (mine && c.usable) return i;
      in[i] = false;
    } else {
      in[i] = c.usable;
      any_rest = any_rest || c.usable;
    }
  }
  // Only split deployments can take it (the others failed): any of them.
  if (!any_rest) {
    for (std::size_t i = 0; i < candidates.size(); ++i) in[i] = candidates[i].usable;
  }
  const std::span<bool> mask(in, candidates.size());
  switch (strategy) {
    case Strategy::kLeastInFlight:
      return lowest(candidates, mask, draw, [](const Candidate& c) { return c.load->in_flight(); });
    case Strategy::kLatency:
      // A deployment with no answer yet has -1: it is tried first, so that
      // each gets measured.
      return lowest(candidates, mask, draw,
                    [](const Candidate& c) { return c.load->latency_us(); });
    case Strategy::kWeighted:
      break;
  }
  return by_weight(candidates, mask, draw);
}

double sticky_point(std::string_view group, std::string_view key) noexcept {
  // The group seeds the key's hash: one key may sit on either side of each
  // group's split.
  const XXH64_hash_t seed = XXH3_64bits(group.data(), group.size());
  const XXH64_hash_t h = XXH3_64bits_withSeed(key.data(), key.size(), seed);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

double random_point() noexcept {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace llmkit::route
