// One OpenAI BPE encoding (cl100k_base, ...): rank data, special tokens and
// the pre-tokenizer pattern, with exact tiktoken encode/count/decode.
// Immutable after construction, so any number of threads may share one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/alloc.h"
#include "tokenize/pretokenize.h"
#include "tokenize/rank_table.h"

namespace llmkit::tokenize {

enum class SpecialMode { kDisallow, kAllow, kAsText };

// Where encoded ids go: written while they fit in `capacity`, always
// counted, so a null buffer gives a count-only pass.
struct TokenOut {
  std::uint32_t* ids = nullptr;
  std::size_t capacity = 0;
  std::size_t n = 0;

  void push(std::uint32_t id) {
    if (n < capacity) ids[n] = id;
    ++n;
  }
};

// What the catalog knows of an encoding before loading it.
struct EncodingSpec {
  std::string_view name;
  Pattern pattern;
  std::string_view ranks;  // the .tiktoken file: "<base64 token> <rank>" lines
  std::string_view json;   // {"pat_str": ..., "special_tokens": {...}}
};

class Encoding {
 public:
  // Parses the embedded data; INTERNAL if it is corrupt or its pat_str is
  // not the one the pre-tokenizer implements.
  explicit Encoding(const EncodingSpec& spec);

  std::string_view name() const { return name_; }
  std::size_t n_vocab() const { return decoder_.size(); }

  // Encodes `text` into `out`. INVALID_ARGUMENT for invalid UTF-8, or for
  // special-token text under kDisallow.
  void encode(std::string_view text, SpecialMode mode, TokenOut& out) const;
  std::size_t count(std::string_view text, SpecialMode mode) const;

  // Writes the bytes of `ids` to `buf` while they fit in `capacity`;
  // returns the total length. INVALID_ARGUMENT for an unknown id.
  std::size_t decode(std::span<const std::uint32_t> ids, char* buf, std::size_t capacity) const;

  // Bytes of memory held: rank table, token bytes, decoder.
  std::size_t memory_bytes() const;

 private:
  struct Special {
    String text;
    std::uint32_t id;
  };
  struct Found {
    std::size_t pos;
    const Special* special;
  };

  void encode_ordinary(std::string_view text, TokenOut& out) const;
  // `overread`: at least 8 readable bytes follow the piece.
  void encode_piece(std::string_view piece, bool overread, TokenOut& out) const;
  void merge_small(std::string_view piece, TokenOut& out) const;
  void merge_large(std::string_view piece, TokenOut& out) const;
  Found find_special(std::string_view text, std::size_t from) const;

  String name_;
  Pattern pattern_;
  String bytes_;  // all token bytes, decoded from base64
  std::vector<std::pair<std::uint32_t, std::uint32_t>,
              Allocator<std::pair<std::uint32_t, std::uint32_t>>>
      decoder_;  // id -> (offset into bytes_ or specials, length); length 0 = unused id
  RankTable ranks_;
  std::uint32_t byte_rank_[256] = {};
  // Ranks of all two-byte tokens, indexed by (first << 8 | second): the
  // first round of every merge reads here instead of hashing.
  std::vector<std::uint32_t, Allocator<std::uint32_t>> pair_rank_;
  std::size_t max_token_len_ = 0;
  std::vector<Special, Allocator<Special>> specials_;
};

}  // namespace llmkit::tokenize
