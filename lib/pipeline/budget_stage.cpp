#include "pipeline/budget_stage.h"

#include <utility>

namespace llmkit::pipeline {

void BudgetStage::admit(budget::Budgets* budgets, const Options* call_options) {
  if (budgets == nullptr) return;
  const std::string_view caller =
      call_options != nullptr ? call_options->get_string("caller", "") : std::string_view();
  admission_ = budgets->admit(caller);
  budgets_ = budgets;
}

void BudgetStage::settle(const client::Result& result) noexcept {
  budget::Budgets* budgets = std::exchange(budgets_, nullptr);
  if (budgets == nullptr || !result.response || !result.response->cost_usd) return;
  budgets->add(admission_, *result.response->cost_usd);
}

}  // namespace llmkit::pipeline
