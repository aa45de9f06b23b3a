// Rules: when a hook runs. A rule is a small expression compiled once, at
// registration, and evaluated for each call (docs/hooks.md has the syntax):
//
//   model:gpt-4o* and (tag:prod or not provider:ollama) and meta.team:search
//
// Atoms: model:GLOB, provider:NAME, tag:T, anytag:T1,T2, alltags:T1,T2,
// meta.KEY:GLOB, status:S1,S2 (ok, error, or a status name such as
// rate_limited), pred:NAME (a predicate callback); composed with and, or,
// not and parentheses (not binds tightest, then and, then or). Values may
// be double-quoted, with \" and \\ inside. An empty rule matches every call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/alloc.h"
#include "llmkit.h"

namespace llmkit::hooks {

struct Event;

// What a rule sees of a call. Borrowed: valid while the rule is evaluated.
struct CallFacts {
  std::string_view provider;
  std::string_view model;
  std::span<const String> tags;
  std::span<const std::pair<String, String>> metadata;
  std::optional<llmkit_status> status;  // once the call has an outcome
  const Event* event = nullptr;         // the whole of it, for predicates
};

// A predicate's verdict: 1 match, 0 no match, anything else: it failed.
using Predicate = std::function<int(const CallFacts&)>;

// A status as rules write it: "ok", "rate_limited", ...
std::string_view status_name(llmkit_status status) noexcept;

class Rule {
 public:
  enum class Verdict { kRun, kSkip, kFailed };

  // An empty rule: every call matches.
  Rule() = default;

  // Compiles `text`; `predicate` resolves a pred:NAME to its callback
  // (null: no such predicate). INVALID_ARGUMENT with the column of the
  // first error, or naming an unknown predicate or status.
  static Rule compile(std::string_view text,
                      const std::function<const Predicate*(std::string_view)>& predicate);

  // kFailed when a predicate the evaluation reached failed (and, or stop
  // at the first operand that settles them). Thread safety: any thread.
  Verdict evaluate(const CallFacts& call) const;

  // The rule as compiled, for messages and stats.
  std::string_view text() const { return text_; }

 private:
  struct Node {
    enum class Kind : std::uint8_t {
      kAnd,
      kOr,
      kNot,
      kModel,
      kProvider,
      kTag,
      kAnyTag,
      kAllTags,
      kMeta,
      kStatus,
      kPredicate,
    };
    Kind kind = Kind::kAnd;
    std::uint32_t left = 0;   // kAnd, kOr, kNot: operand nodes
    std::uint32_t right = 0;  // kAnd, kOr
    String key;               // kMeta
    std::vector<String, Allocator<String>> values;
    std::uint32_t statuses = 0;  // kStatus: a bit per llmkit_status
    bool glob = false;           // values[0] has glob characters
    const Predicate* predicate = nullptr;
  };
  class Parser;

  // 1 match, 0 no match, -1 a predicate failed.
  int eval(std::uint32_t node, const CallFacts& call) const;

  String text_;
  std::vector<Node, Allocator<Node>> nodes_;  // empty: match all; the root is last
};

}  // namespace llmkit::hooks
