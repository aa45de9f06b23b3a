// Pre-tokenisation: splitting text into the pieces that BPE then encodes.
//
// Each encoding's regex (its pat_str) is implemented as a hand-written
// scanner with the same leftmost-first, backtracking semantics: a general
// regex engine is the usual bottleneck of tiktoken-style tokenizers. The
// golden and differential tests (test/tokenize/) prove equivalence with
// tiktoken itself.
#pragma once

#include <cstddef>
#include <string_view>

namespace llmkit::tokenize {

enum class Pattern {
  kGpt2,    // r50k_base, p50k_base
  kCl100k,  // cl100k_base
  kO200k,   // o200k_base
};

// The regex each Pattern implements, exactly as the encoding's data files
// state it; loading an encoding checks its pat_str against this.
std::string_view pattern_regex(Pattern p);

// The end of the piece that starts at `pos` (< text.size()). `text` must be
// valid UTF-8. Every position starts some piece, so repeated calls
// partition the text.
std::size_t piece_end(Pattern p, std::string_view text, std::size_t pos);

}  // namespace llmkit::tokenize
