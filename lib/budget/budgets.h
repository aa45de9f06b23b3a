// A client's budgets: its rules, the store of their spend, and what to do
// when the store cannot be reached (docs/costs.md, "Budgets"). A call is
// checked before it goes (every matching budget must have spend left) and
// its cost added after; calls in flight at once are all admitted on the
// same spend, so together they may pass a budget by their own cost.
// Thread safety: every function, any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "budget/rules.h"
#include "budget/store.h"
#include "options/options.h"

namespace llmkit::budget {

// The keys one admitted call adds its cost to.
struct Admission {
  std::vector<Entry> entries;
};

class Budgets {
 public:
  using Clock = std::function<std::int64_t()>;  // µs since the Unix epoch

  // From the client's options: "budgets" (JSON text or a file), "budget.store"
  // (default "memory"), "budget.on_unavailable" ("allow", the default, or
  // "deny"), "budget.prefix" (of the store's keys, default "llmkit:budget:"),
  // "budget.timeout_ms" (Redis, default 250) and "application". Null without
  // "budgets". INVALID_ARGUMENT naming a bad value.
  static std::unique_ptr<Budgets> from(const Options& options, Clock clock = {});

  Budgets(std::vector<Rule> rules, std::unique_ptr<Store> store, std::string application,
          std::string prefix, bool deny_when_unavailable, Clock clock);

  // Checks a call of `caller`: BUDGET_EXCEEDED naming the first budget
  // whose spend this period has reached its limit; UNAVAILABLE when the
  // store cannot be reached and "budget.on_unavailable" is "deny". Returns
  // where to add the call's cost.
  Admission admit(std::string_view caller);
  // Adds `usd` (nothing when not above 0) to what admit() returned. A store
  // that fails is counted, never thrown.
  void add(const Admission& admission, double usd) noexcept;

  // The spend this period of the budget of `kind` for `key` per `per`.
  // NOT_FOUND when no rule covers it; UNAVAILABLE as admit().
  double spent(Kind kind, std::string_view key, Period per);

  struct Stats {
    std::int64_t refused = 0;       // calls failed BUDGET_EXCEEDED
    std::int64_t store_errors = 0;  // store calls that failed (checks and adds)
    std::int64_t unrecorded = 0;    // costs the store failed to add
  };
  Stats stats() const noexcept;

 private:
  Entry entry_of(const Rule& rule, std::string_view key, std::int64_t now_us) const;

  std::vector<Rule> rules_;
  std::unique_ptr<Store> store_;
  std::string application_;
  std::string prefix_;
  bool deny_;
  Clock clock_;
  std::atomic<std::int64_t> refused_{0}, store_errors_{0}, unrecorded_{0};
};

}  // namespace llmkit::budget
