// One key's state and the decisions on it, shared by the in-process and the
// shared-memory stores (the Redis store runs the same steps in Lua,
// ratelimit/redis_script.h), plus the open-addressing probe both tables use.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ratelimit/limiter.h"

namespace llmkit::ratelimit {

// A key is kept as a 96-bit hash: `hash` (never 0, which marks an empty
// slot) and 32 `check` bits.
struct KeyHash {
  std::uint64_t hash;
  std::uint32_t check;
};

inline KeyHash hash_key(std::string_view key) {
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  return {h.low64 == 0 ? 1 : h.low64, static_cast<std::uint32_t>(h.high64)};
}

// 32 bytes; plain data, so it lives as well in a vector as in /dev/shm.
struct Entry {
  std::uint64_t hash = 0;  // 0 = empty
  std::uint32_t check = 0;
  std::int32_t inflight = 0;
  std::int64_t tat_requests = 0;
  std::int64_t tat_tokens = 0;

  bool holds(const KeyHash& k) const { return hash == k.hash && check == k.check; }
  bool same_key(const Entry& o) const { return holds({o.hash, o.check}); }
  // Idle: its state is that of a fresh key, so dropping it changes nothing.
  bool idle(std::int64_t now) const {
    return inflight == 0 && tat_requests <= now && tat_tokens <= now;
  }
};
static_assert(sizeof(Entry) == 32);

// Admits one request of `tokens` tokens for `e` at `now` against every
// limit of `c` and charges it, or charges nothing and says why not.
inline Decision admit(const Config& c, Entry& e, std::int64_t tokens, std::int64_t now) {
  const Verdict req = gcra(c.requests, e.tat_requests, now, 1);
  const Verdict tok = gcra(c.tokens, e.tat_tokens, now, tokens);
  Decision d;
  d.remaining_requests = req.remaining;
  d.remaining_tokens = tok.remaining;
  if (!req.allowed) {
    d.by = LimitedBy::kRequests;
    d.retry_after_ns = req.retry_after_ns;
  }
  if (!tok.allowed && (d.by == LimitedBy::kNone || tok.retry_after_ns < 0 ||
                       (d.retry_after_ns >= 0 && tok.retry_after_ns > d.retry_after_ns))) {
    d.by = LimitedBy::kTokens;
    d.retry_after_ns = tok.retry_after_ns;
  }
  if (d.by == LimitedBy::kNone && c.concurrency > 0 && e.inflight >= c.concurrency) {
    d.by = LimitedBy::kConcurrency;  // frees when a holder releases: no time to wait for
  }
  if (d.by != LimitedBy::kNone) {
    // Nothing is charged: report what stays admissible without this request.
    if (req.allowed && !c.requests.unlimited()) ++d.remaining_requests;
    if (tok.allowed && !c.tokens.unlimited()) d.remaining_tokens += tokens;
    return d;
  }
  d.allowed = true;
  e.tat_requests = req.new_tat;
  e.tat_tokens = tok.new_tat;
  if (c.concurrency > 0) ++e.inflight;
  return d;
}

// Charges (delta > 0) or refunds (delta < 0) tokens. A refund never moves
// the TAT before now (a full bucket stays full); a charge saturates at
// kMaxTolerance past now.
inline void adjust_tokens(const Rate& tokens, Entry& e, std::int64_t delta, std::int64_t now) {
  __extension__ using i128 = __int128;
  const i128 tat = static_cast<i128>(std::max(e.tat_tokens, now)) +
                   static_cast<i128>(delta) * tokens.interval_ns;
  e.tat_tokens = static_cast<std::int64_t>(std::clamp<i128>(tat, now, now + kMaxTolerance));
}

// Linear probing over a table of any size: the home slot is the hash
// scaled to the size, so tables need not be powers of two. A slot type has
// a `hash` (0 = empty) and a probe_hash() overload giving where it lives.
inline std::size_t home_slot(std::uint64_t hash, std::size_t size) {
  __extension__ using u128 = unsigned __int128;  // GCC and Clang
  return static_cast<std::size_t>((static_cast<u128>(hash) * size) >> 64);
}

inline std::size_t next_slot(std::size_t i, std::size_t size) {
  return i + 1 == size ? 0 : i + 1;
}

inline std::uint64_t probe_hash(const Entry& e) {
  return e.hash;
}

// The first slot on `probe`'s path that `match` accepts, or null. A table
// is a span or vector of slots, and always has an empty one.
template <class Table, class Match>
auto* find_slot(Table& table, std::uint64_t probe, Match&& match) {
  decltype(&table[0]) none = nullptr;
  for (std::size_t i = home_slot(probe, table.size()); table[i].hash != 0;
       i = next_slot(i, table.size())) {
    if (match(table[i])) return &table[i];
  }
  return none;
}

template <class Table>
Entry* find_entry(Table& table, const KeyHash& k) {
  return find_slot(table, k.hash, [&](const Entry& e) { return e.holds(k); });
}

// The empty slot where a slot of `probe` goes: the first on its path.
template <class Table>
std::size_t free_slot(const Table& table, std::uint64_t probe) {
  std::size_t i = home_slot(probe, table.size());
  while (table[i].hash != 0) i = next_slot(i, table.size());
  return i;
}

// Empties slot `i`, moving later slots of the same probe run back so every
// slot stays reachable from its home (no tombstones). A slot that wraps
// past the end may land before `i`.
template <class Table>
void erase_slot(Table& table, std::size_t i) {
  std::size_t hole = i;
  for (std::size_t j = next_slot(i, table.size()); table[j].hash != 0;
       j = next_slot(j, table.size())) {
    const std::size_t home = home_slot(probe_hash(table[j]), table.size());
    // It may fill the hole when the hole is on its path, home .. j.
    const bool on_path = hole < j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (on_path) {
      table[hole] = table[j];
      hole = j;
    }
  }
  table[hole] = {};
}

}  // namespace llmkit::ratelimit
