#include "budget/budgets.h"

#include <cstdio>

#include "core/error.h"
#include "core/text_file.h"
#include "core/utf8.h"
#include "trace/cost_query.h"

namespace llmkit::budget {

namespace {

constexpr std::string_view kOptions[] = {"store", "on_unavailable", "prefix", "timeout_ms"};

std::string dollars(double usd) {
  char text[32];
  std::snprintf(text, sizeof text, "$%.6f", usd);
  return text;
}

}  // namespace

std::unique_ptr<Budgets> Budgets::from(const Options& options, Clock clock) {
  options.for_each("budget.", [](std::string_view rest, std::string_view) {
    for (const std::string_view known : kOptions) {
      if (rest == known) return;
    }
    fail(LLMKIT_INVALID_ARGUMENT, "unknown option \"budget." + std::string(rest) +
                                      "\" for the client (known: budget.store, "
                                      "budget.on_unavailable, budget.prefix, budget.timeout_ms)");
  });
  const String* text = options.find("budgets");
  if (text == nullptr) return nullptr;
  std::vector<Rule> rules = parse_rules(json_text_or_file(*text, "\"budgets\""));
  const std::string_view on_unavailable = options.get_string("budget.on_unavailable", "allow");
  if (on_unavailable != "allow" && on_unavailable != "deny") {
    fail(LLMKIT_INVALID_ARGUMENT, "\"budget.on_unavailable\" " + utf8::quote(on_unavailable) +
                                      R"( is not "allow" or "deny")");
  }
  const std::int64_t timeout_ms = options.get_int("budget.timeout_ms", 250, 1, 60'000);
  auto store = make_store(options.get_string("budget.store", "memory"), timeout_ms);
  return std::make_unique<Budgets>(
      std::move(rules), std::move(store), std::string(options.get_string("application", "")),
      std::string(options.get_string("budget.prefix", "llmkit:budget:")), on_unavailable == "deny",
      clock ? std::move(clock) : Clock(&trace::wall_clock_us));
}

Budgets::Budgets(std::vector<Rule> rules, std::unique_ptr<Store> store, std::string application,
                 std::string prefix, bool deny_when_unavailable, Clock clock)
    : rules_(std::move(rules)),
      store_(std::move(store)),
      application_(std::move(application)),
      prefix_(std::move(prefix)),
      deny_(deny_when_unavailable),
      clock_(std::move(clock)) {}

Entry Budgets::entry_of(const Rule& rule, std::string_view key, std::int64_t now_us) const {
  const Window w = window_of(rule.per, now_us);
  // The free-form key goes last, so no key can spell another's prefix.
  return {prefix_ + std::string(name_of(rule.kind)) + ":" + std::string(name_of(rule.per)) + ":" +
              w.label + ":" + std::string(key),
          w.end_us};
}

Admission Budgets::admit(std::string_view caller) {
  const std::int64_t now = clock_();
  Admission a;
  std::vector<std::pair<const Rule*, std::size_t>> checks;  // a rule and its entry
  for (const Rule& rule : rules_) {
    const std::string_view key = rule.kind == Kind::kApplication ? application_ : caller;
    if (!rule.covers(key)) continue;
    Entry e = entry_of(rule, key, now);
    std::size_t i = 0;
    while (i < a.entries.size() && a.entries[i].key != e.key) ++i;
    if (i == a.entries.size()) a.entries.push_back(std::move(e));
    checks.emplace_back(&rule, i);
  }
  if (a.entries.empty()) return a;
  std::vector<double> spend;
  try {
    spend = store_->spent(a.entries);
  } catch (const Error& e) {
    if (e.status() != LLMKIT_UNAVAILABLE) throw;
    ++store_errors_;
    if (deny_) {
      fail(LLMKIT_UNAVAILABLE,
           "budgets cannot be checked (\"budget.on_unavailable\" is "
           "\"deny\"): " +
               std::string(e.what()));
    }
    return a;
  }
  for (const auto& [rule, i] : checks) {
    if (spend[i] < rule->usd) continue;
    ++refused_;
    const std::string key = rule->kind == Kind::kApplication ? application_ : std::string(caller);
    fail(LLMKIT_BUDGET_EXCEEDED,
         "budget exceeded: " + std::string(name_of(rule->kind)) + " " + utf8::quote(key) +
             " has spent " + dollars(spend[i]) + " of its " + dollars(rule->usd) + " per " +
             std::string(name_of(rule->per)) + " (" + window_of(rule->per, now).label + " UTC)");
  }
  return a;
}

void Budgets::add(const Admission& admission, double usd) noexcept {
  if (!(usd > 0) || admission.entries.empty()) return;
  try {
    store_->add(admission.entries, usd);
  } catch (...) {  // the store failed: counted, and the call's outcome stands
    ++store_errors_;
    ++unrecorded_;
  }
}

double Budgets::spent(Kind kind, std::string_view key, Period per) {
  for (const Rule& rule : rules_) {
    if (rule.kind != kind || rule.per != per || !rule.covers(key)) continue;
    const Entry e[] = {entry_of(rule, key, clock_())};
    return store_->spent(e)[0];
  }
  fail(LLMKIT_NOT_FOUND, "no budget for " + std::string(name_of(kind)) + " " + utf8::quote(key) +
                             " per " + std::string(name_of(per)));
}

Budgets::Stats Budgets::stats() const noexcept {
  return {refused_.load(), store_errors_.load(), unrecorded_.load()};
}

}  // namespace llmkit::budget
