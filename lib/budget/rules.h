// The "budgets" client option: spend limits per application or caller
// key, per UTC day or month (docs/costs.md, "Budgets").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmkit::budget {

enum class Kind { kApplication, kCaller };
enum class Period { kDay, kMonth };

std::string_view name_of(Kind kind) noexcept;
std::string_view name_of(Period period) noexcept;

struct Rule {
  Kind kind = Kind::kApplication;
  std::string key;  // "*": each application or caller key on its own
  double usd = 0;   // the limit, > 0
  Period per = Period::kDay;

  bool covers(std::string_view k) const noexcept { return key == "*" || key == k; }
};

// Parses a JSON array of {"application" or "caller": key, "usd": limit,
// "per": "day" or "month"}. INVALID_ARGUMENT naming the entry and what is
// wrong with it.
std::vector<Rule> parse_rules(std::string_view json_text);

// The UTC calendar period holding `now_us` (µs since the Unix epoch):
// its label ("2025-01-31" or "2025-01") and its end.
struct Window {
  std::string label;
  std::int64_t end_us = 0;
};
Window window_of(Period per, std::int64_t now_us);

}  // namespace llmkit::budget
