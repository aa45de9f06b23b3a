// Byte string -> rank (token id) lookup, the hot path of BPE.
//
// Open addressing over a power-of-two table of 16-byte slots. Each slot
// holds the key's first 8 bytes, its length and hash bits, so a lookup of a
// token of up to 8 bytes (most of them) touches one slot and nothing else;
// longer ones compare their tail in the token bytes. Short keys use a
// multiply-fold hash, longer ones XXH3. Keys are never copied: a lookup
// hashes a slice of the caller's text. Before this layout (separate tag
// slots, XXH3 for all, memcmp against the token bytes), lookups were 60% of
// count time on English; bench/tokenize_bench.cpp guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/alloc.h"
#include "core/error.h"

namespace llmkit::tokenize {

inline constexpr std::uint32_t kNoRank = 0xFFFFFFFFu;

class RankTable {
 public:
  // `token(rank)` gives the bytes of each rank in [0, n); empty = no token.
  // A token listed twice is corrupt data: INTERNAL.
  template <class TokenOf>
  void build(std::size_t n, TokenOf token);

  std::uint32_t find(std::string_view bytes) const { return find(bytes, head8(bytes)); }

  // The same, for `bytes` followed by at least 8 readable bytes: one load,
  // no branch on the length.
  std::uint32_t find_overread(std::string_view bytes) const {
    std::uint64_t v;
    std::memcpy(&v, bytes.data(), 8);
    const std::size_t n = bytes.size();
    return find(bytes, n >= 8 ? v : v & ((std::uint64_t{1} << (8 * n)) - 1));
  }

  std::size_t memory_bytes() const {
    return slots_.size() * sizeof(Slot) + tokens_.size() * sizeof(std::string_view);
  }

 private:
  std::uint32_t find(std::string_view bytes, std::uint64_t head) const {
    const std::uint64_t h = hash(bytes, head);
    const auto check = static_cast<std::uint32_t>((h >> 40) << 8 |
                                                  static_cast<std::uint32_t>(bytes.size() & 0xFF));
    for (std::uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.rank == kNoRank) return kNoRank;
      if (s.check == check && s.head == head && (bytes.size() <= 8 || tail_equal(s.rank, bytes))) {
        return s.rank;
      }
    }
  }

  struct Slot {
    std::uint64_t head = 0;  // first 8 bytes, little-endian, zero-padded
    std::uint32_t rank = kNoRank;
    std::uint32_t check = 0;  // hash bits << 8 | length & 0xFF
  };

  // The first min(8, size) bytes as a little-endian integer, without
  // reading past the end: overlapping loads give the same bytes at the
  // same positions.
  static std::uint64_t head8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    if (n >= 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    if (n >= 4) {
      std::uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      return lo | (static_cast<std::uint64_t>(hi) << (8 * (n - 4)));
    }
    if (n == 0) return 0;
    return p[0] | (static_cast<std::uint64_t>(p[n / 2]) << (8 * (n / 2))) |
           (static_cast<std::uint64_t>(p[n - 1]) << (8 * (n - 1)));
  }

  static std::uint64_t hash(std::string_view s, std::uint64_t head) {
    if (s.size() > 8) return hash_long(s);
    std::uint64_t h = (head ^ (static_cast<std::uint64_t>(s.size()) << 58)) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
  }
  static std::uint64_t hash_long(std::string_view s);

  bool tail_equal(std::uint32_t rank, std::string_view bytes) const {
    const std::string_view t = tokens_[rank];
    return t.size() == bytes.size() &&
           std::memcmp(t.data() + 8, bytes.data() + 8, t.size() - 8) == 0;
  }

  // False when `bytes` is already present.
  bool insert(std::string_view bytes, std::uint32_t rank);

  std::vector<Slot, Allocator<Slot>> slots_;
  std::uint64_t mask_ = 0;
  // Token bytes by rank, for the tails of long tokens.
  std::vector<std::string_view, Allocator<std::string_view>> tokens_;
};

template <class TokenOf>
void RankTable::build(std::size_t n, TokenOf token) {
  std::size_t cap = 1;
  while (cap < n * 2) cap <<= 1;  // load factor <= 0.5 keeps probes short
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  tokens_.assign(n, std::string_view());
  for (std::size_t r = 0; r < n; ++r) {
    const std::string_view t = token(r);
    if (t.empty()) continue;
    tokens_[r] = t;
    if (!insert(t, static_cast<std::uint32_t>(r))) {
      fail(LLMKIT_INTERNAL, "rank data lists a token twice (rank " + std::to_string(r) + ")");
    }
  }
}

}  // namespace llmkit::tokenize
