// A client's budgets on its calls (budget/budgets.h): after the cache (a
// cached answer costs nothing) and before the caller's rate limit, a call
// whose application or caller has spent its budget this period fails with
// BUDGET_EXCEEDED, never reaching the provider; when the call ends its
// cost is added to each budget it was checked against.
#pragma once

#include "budget/budgets.h"
#include "client/client.h"
#include "options/options.h"

namespace llmkit::pipeline {

class BudgetStage {
 public:
  // Checks the call against `budgets` (null: none) for its "caller".
  // Throws BUDGET_EXCEEDED, or UNAVAILABLE per "budget.on_unavailable".
  void admit(budget::Budgets* budgets, const Options* call_options);
  // Adds the answer's cost (none without an answer or a price). Once.
  void settle(const client::Result& result) noexcept;

 private:
  budget::Budgets* budgets_ = nullptr;  // set while admitted
  budget::Admission admission_;
};

}  // namespace llmkit::pipeline
