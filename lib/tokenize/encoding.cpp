#include "tokenize/encoding.h"

#include <simdjson.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <queue>
#include <string>

#include "core/error.h"
#include "core/utf8.h"

namespace llmkit::tokenize {

namespace {

// Pieces up to this many bytes merge with the simple quadratic scan (fast
// for the short pieces of ordinary text); longer ones, such as a line of
// CJK or a run of spaces, use the heap so the cost stays O(n log n).
constexpr std::size_t kSmallPiece = 96;

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Appends the bytes of one base64 field; false on a malformed one.
bool base64_append(std::string_view in, String& out) {
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    const int v = base64_value(in[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  for (; i < in.size(); ++i) {
    if (in[i] != '=') return false;
  }
  return true;
}

[[noreturn]] void corrupt(std::string_view name, const std::string& what) {
  fail(LLMKIT_INTERNAL, "embedded data of " + std::string(name) + " is corrupt: " + what);
}

}  // namespace

Encoding::Encoding(const EncodingSpec& spec)
    : name_(make_string(spec.name)), pattern_(spec.pattern) {
  // pat_str and special tokens.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(spec.json.data(), spec.json.size()).get(doc)) corrupt(spec.name, "bad JSON");
  std::string_view pat;
  if (doc["pat_str"].get(pat) || pat != pattern_regex(pattern_)) {
    corrupt(spec.name, "pat_str is not the pattern llmkit's pre-tokenizer implements");
  }
  simdjson::dom::object special_tokens;
  if (doc["special_tokens"].get(special_tokens)) corrupt(spec.name, "no special_tokens");

  // Token bytes: ordinary tokens by rank, then the special tokens' text.
  // Reserved up front: the rank table keeps views into bytes_.
  bytes_.reserve(spec.ranks.size() + spec.json.size());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> spans;  // rank -> (offset, length)
  std::size_t line_start = 0;
  while (line_start < spec.ranks.size()) {
    std::size_t line_end = spec.ranks.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = spec.ranks.size();
    const std::string_view line = spec.ranks.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (line.empty()) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) corrupt(spec.name, "a line without a rank");
    std::uint32_t rank = 0;
    for (const char c : line.substr(space + 1)) {
      if (c < '0' || c > '9') corrupt(spec.name, "a non-numeric rank");
      rank = rank * 10 + static_cast<std::uint32_t>(c - '0');
    }
    const auto offset = static_cast<std::uint32_t>(bytes_.size());
    if (!base64_append(line.substr(0, space), bytes_)) corrupt(spec.name, "bad base64");
    const auto length = static_cast<std::uint32_t>(bytes_.size() - offset);
    if (length == 0) corrupt(spec.name, "an empty token");
    if (rank >= spans.size()) spans.resize(rank + 1, {0, 0});
    spans[rank] = {offset, length};
    max_token_len_ = std::max<std::size_t>(max_token_len_, length);
  }
  const std::size_t n_ranks = spans.size();
  for (auto [text, value] : special_tokens) {
    std::uint64_t id = 0;
    if (value.get(id) || id > 0xFFFFFFF0u) corrupt(spec.name, "a bad special token id");
    const auto offset = static_cast<std::uint32_t>(bytes_.size());
    bytes_.append(text.data(), text.size());
    if (id >= spans.size()) spans.resize(id + 1, {0, 0});
    if (spans[id].second != 0) corrupt(spec.name, "a special token id that is also a rank");
    spans[id] = {offset, static_cast<std::uint32_t>(text.size())};
    if (!text.starts_with('<')) corrupt(spec.name, "a special token that does not start with '<'");
    specials_.push_back(Special{make_string(text), static_cast<std::uint32_t>(id)});
  }
  decoder_.assign(spans.begin(), spans.end());

  ranks_.build(n_ranks, [&](std::size_t r) {
    return std::string_view(bytes_).substr(decoder_[r].first, decoder_[r].second);
  });
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    byte_rank_[b] = ranks_.find(std::string_view(&c, 1));
    if (byte_rank_[b] == kNoRank) corrupt(spec.name, "a byte without a token");
  }
  pair_rank_.assign(65536, kNoRank);
  for (std::size_t r = 0; r < n_ranks; ++r) {
    if (decoder_[r].second != 2) continue;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data() + decoder_[r].first);
    pair_rank_[(p[0] << 8) | p[1]] = static_cast<std::uint32_t>(r);
  }
}

std::size_t Encoding::memory_bytes() const {
  return bytes_.capacity() + decoder_.capacity() * sizeof(decoder_[0]) + ranks_.memory_bytes();
}

Encoding::Found Encoding::find_special(std::string_view text, std::size_t from) const {
  // One pass: every special token of these encodings starts with '<', so
  // memchr finds the candidates; the longest token there wins.
  while (from < text.size()) {
    const void* hit = std::memchr(text.data() + from, '<', text.size() - from);
    if (hit == nullptr) break;
    const auto pos = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
    const Special* best = nullptr;
    for (const Special& s : specials_) {
      const std::string_view t(s.text.data(), s.text.size());
      if (text.substr(pos).starts_with(t) && (best == nullptr || t.size() > best->text.size())) {
        best = &s;
      }
    }
    if (best != nullptr) return {pos, best};
    from = pos + 1;
  }
  return {std::string_view::npos, nullptr};
}

void Encoding::encode(std::string_view text, SpecialMode mode, TokenOut& out) const {
  utf8::require_valid(text, "text");
  if (mode == SpecialMode::kAsText) {
    encode_ordinary(text, out);
    return;
  }
  std::size_t start = 0;
  for (;;) {
    const Found f = find_special(text, start);
    if (f.special == nullptr) {
      encode_ordinary(text.substr(start), out);
      return;
    }
    if (mode == SpecialMode::kDisallow) {
      fail(LLMKIT_INVALID_ARGUMENT,
           "text contains the special token " + utf8::quote(f.special->text) + " at byte offset " +
               std::to_string(f.pos) +
               "; allow special tokens (LLMKIT_SPECIAL_ALLOW) or encode them as text "
               "(LLMKIT_SPECIAL_AS_TEXT)");
    }
    encode_ordinary(text.substr(start, f.pos - start), out);
    out.push(f.special->id);
    start = f.pos + f.special->text.size();
  }
}

std::size_t Encoding::count(std::string_view text, SpecialMode mode) const {
  TokenOut out;
  encode(text, mode, out);
  return out.n;
}

void Encoding::encode_ordinary(std::string_view text, TokenOut& out) const {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = piece_end(pattern_, text, pos);
    encode_piece(text.substr(pos, end - pos), end + 8 <= text.size(), out);
    pos = end;
  }
}

namespace {

// Per thread, the merges of recent short pieces that are not one token
// (rare words, split numbers...). Text repeats such pieces often, and a hit
// replaces a dozen rank lookups with one probe: count on English went from
// 118 to 150 MB/s (bench/tokenize_bench.cpp). Direct-mapped, 256 KB a thread
// and encoding; a colliding piece replaces the entry. Each thread has its
// own, so nothing is shared or locked.
struct MergeCache {
  static constexpr std::size_t kEntries = 4096;
  static constexpr std::size_t kMaxPiece = 22;
  static constexpr std::size_t kMaxIds = 8;
  struct Entry {
    std::uint64_t hash = 0;
    std::uint8_t len = 0;  // 0 = empty
    std::uint8_t n = 0;
    char bytes[kMaxPiece];
    std::uint32_t ids[kMaxIds];
  };
  static_assert(sizeof(Entry) == 64, "one cache line per entry");
  const void* owner = nullptr;
  Entry entries[kEntries];
};

MergeCache& merge_cache(const void* encoding) {
  // One per embedded encoding a thread uses; the rare fifth evicts the first.
  thread_local Unique<MergeCache> caches[4];
  for (auto& c : caches) {
    if (c && c->owner == encoding) return *c;
  }
  for (auto& c : caches) {
    if (!c) {
      c.reset(create<MergeCache>());
      c->owner = encoding;
      return *c;
    }
  }
  caches[0]->owner = encoding;
  for (auto& e : caches[0]->entries) e.len = 0;
  return *caches[0];
}

}  // namespace

void Encoding::encode_piece(std::string_view piece, bool overread, TokenOut& out) const {
  if (piece.size() == 1) {
    out.push(byte_rank_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  if (piece.size() <= max_token_len_) {
    const std::uint32_t whole = overread ? ranks_.find_overread(piece) : ranks_.find(piece);
    if (whole != kNoRank) {
      out.push(whole);
      return;
    }
  }
  if (piece.size() <= MergeCache::kMaxPiece) {
    MergeCache& cache = merge_cache(this);
    const std::uint64_t h = XXH3_64bits(piece.data(), piece.size());
    MergeCache::Entry& e = cache.entries[h & (MergeCache::kEntries - 1)];
    if (e.len == piece.size() && e.hash == h && std::memcmp(e.bytes, piece.data(), e.len) == 0) {
      for (std::size_t i = 0; i < e.n; ++i) out.push(e.ids[i]);
      return;
    }
    std::uint32_t ids[MergeCache::kMaxPiece];
    TokenOut local{ids, MergeCache::kMaxPiece, 0};
    merge_small(piece, local);
    for (std::size_t i = 0; i < local.n; ++i) out.push(ids[i]);
    if (local.n <= MergeCache::kMaxIds) {
      e.hash = h;
      e.len = static_cast<std::uint8_t>(piece.size());
      e.n = static_cast<std::uint8_t>(local.n);
      std::memcpy(e.bytes, piece.data(), piece.size());
      std::memcpy(e.ids, ids, local.n * sizeof(std::uint32_t));
    }
    return;
  }
  if (piece.size() <= kSmallPiece) {
    merge_small(piece, out);
  } else {
    merge_large(piece, out);
  }
}

// tiktoken's byte-pair merge: repeatedly merge the adjacent pair whose
// concatenation has the lowest rank, the leftmost on ties.
void Encoding::merge_small(std::string_view piece, TokenOut& out) const {
  struct Part {
    std::uint32_t start;
    std::uint32_t pair_rank;  // rank of this part joined with the next
    std::uint32_t id;         // token of this part
  };
  Part parts[kSmallPiece + 1];
  std::size_t count = piece.size() + 1;  // parts[count - 1] marks the end
  for (std::size_t i = 0; i < count; ++i) {
    parts[i] = {static_cast<std::uint32_t>(i), kNoRank,
                i < piece.size() ? byte_rank_[static_cast<unsigned char>(piece[i])] : kNoRank};
  }
  auto pair_rank = [&](std::size_t i) {
    if (i + 2 >= count) return kNoRank;
    return ranks_.find(piece.substr(parts[i].start, parts[i + 2].start - parts[i].start));
  };
  const auto* bytes = reinterpret_cast<const unsigned char*>(piece.data());
  for (std::size_t i = 0; i + 2 < count; ++i) {
    parts[i].pair_rank = pair_rank_[(bytes[i] << 8) | bytes[i + 1]];
  }
  for (;;) {
    std::uint32_t best = kNoRank;
    std::size_t m = 0;
    for (std::size_t i = 0; i + 2 < count; ++i) {
      if (parts[i].pair_rank < best) {
        best = parts[i].pair_rank;
        m = i;
      }
    }
    if (best == kNoRank) break;
    parts[m].id = best;
    std::memmove(&parts[m + 1], &parts[m + 2], (count - m - 2) * sizeof(Part));
    --count;
    parts[m].pair_rank = pair_rank(m);
    if (m > 0) parts[m - 1].pair_rank = pair_rank(m - 1);
  }
  for (std::size_t i = 0; i + 1 < count; ++i) out.push(parts[i].id);
}

// The same merge order for long pieces, with a doubly linked list of parts
// and a min-heap of candidate pairs; stale heap entries are skipped by
// checking each part's version.
void Encoding::merge_large(std::string_view piece, TokenOut& out) const {
  const auto n = static_cast<std::uint32_t>(piece.size());
  struct Node {
    std::uint32_t start, end, prev, next, id, version;
  };
  struct Candidate {
    std::uint32_t rank, start, left, left_version, right, right_version;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : start > o.start;
    }
  };
  constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  std::vector<Node, Allocator<Node>> nodes(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    nodes[i] = {i,
                i + 1,
                i == 0 ? kNone : i - 1,
                i + 1 == n ? kNone : i + 1,
                byte_rank_[static_cast<unsigned char>(piece[i])],
                0};
  }
  std::priority_queue<Candidate, std::vector<Candidate, Allocator<Candidate>>, std::greater<>> heap;
  auto consider = [&](std::uint32_t left) {
    if (left == kNone || nodes[left].next == kNone) return;
    const Node& a = nodes[left];
    const Node& b = nodes[a.next];
    const std::uint32_t r = b.end - a.start == 2
                                ? pair_rank_[(static_cast<unsigned char>(piece[a.start]) << 8) |
                                             static_cast<unsigned char>(piece[a.start + 1])]
                                : ranks_.find(piece.substr(a.start, b.end - a.start));
    if (r != kNoRank) heap.push({r, a.start, left, a.version, a.next, b.version});
  };
  for (std::uint32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Node& a = nodes[c.left];
    if (a.version != c.left_version || a.next != c.right ||
        nodes[c.right].version != c.right_version) {
      continue;  // one side merged since this pair was scored
    }
    Node& b = nodes[c.right];
    a.end = b.end;
    a.id = c.rank;
    a.next = b.next;
    if (b.next != kNone) nodes[b.next].prev = c.left;
    ++a.version;
    b.version = kNone;  // dead
    consider(a.prev);
    consider(c.left);
  }
  for (std::uint32_t i = 0; i != kNone; i = nodes[i].next) out.push(nodes[i].id);
}

std::size_t Encoding::decode(std::span<const std::uint32_t> ids, char* buf,
                             std::size_t capacity) const {
  std::size_t len = 0;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const std::uint32_t id = ids[k];
    if (id >= decoder_.size() || decoder_[id].second == 0) {
      fail(LLMKIT_INVALID_ARGUMENT, "token id " + std::to_string(id) + " (at index " +
                                        std::to_string(k) + ") is not in " + std::string(name_));
    }
    const auto [offset, length] = decoder_[id];
    if (buf != nullptr && len + length <= capacity) {
      std::memcpy(buf + len, bytes_.data() + offset, length);
    } else {
      buf = nullptr;  // too small: stop writing, keep measuring
    }
    len += length;
  }
  return len;
}

}  // namespace llmkit::tokenize
