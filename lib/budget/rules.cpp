#include "budget/rules.h"

#include <simdjson.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "core/json.h"
#include "core/utf8.h"

namespace llmkit::budget {

namespace {

[[noreturn]] void bad(std::size_t index, const std::string& why) {
  fail(LLMKIT_INVALID_ARGUMENT, "\"budgets\" entry " + std::to_string(index) + ": " + why);
}

std::string_view string_of(simdjson::dom::element e, std::size_t index, std::string_view field) {
  std::string_view s;
  if (e.get_string().get(s)) bad(index, "\"" + std::string(field) + "\" is not a string");
  return s;
}

}  // namespace

std::string_view name_of(Kind kind) noexcept {
  return kind == Kind::kApplication ? "application" : "caller";
}

std::string_view name_of(Period period) noexcept {
  return period == Period::kDay ? "day" : "month";
}

std::vector<Rule> parse_rules(std::string_view json_text) {
  simdjson::dom::parser parser;
  simdjson::dom::array entries;
  if (json::parse(parser, json_text, "\"budgets\"").get_array().get(entries)) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "\"budgets\" is a JSON array of {\"application\" or "
         "\"caller\": key, \"usd\": limit, \"per\": \"day\" or "
         "\"month\"}");
  }
  std::vector<Rule> rules;
  std::size_t index = 0;
  for (const simdjson::dom::element entry : entries) {
    simdjson::dom::object o;
    if (entry.get_object().get(o)) bad(index, "is not an object");
    Rule r;
    int keys = 0;
    bool has_usd = false, has_per = false;
    for (const auto field : o) {
      const std::string_view name = field.key;
      if (name == "application" || name == "caller") {
        r.kind = name == "application" ? Kind::kApplication : Kind::kCaller;
        r.key = std::string(string_of(field.value, index, name));
        ++keys;
      } else if (name == "usd") {
        if (field.value.get_double().get(r.usd) || !(r.usd > 0 && r.usd < 1e15)) {
          bad(index, "\"usd\" is not a number of dollars above 0");
        }
        has_usd = true;
      } else if (name == "per") {
        const std::string_view per = string_of(field.value, index, name);
        if (per != "day" && per != "month") bad(index, R"("per" is not "day" or "month")");
        r.per = per == "day" ? Period::kDay : Period::kMonth;
        has_per = true;
      } else {
        bad(index, "unknown member " + utf8::quote(name));
      }
    }
    if (keys != 1) bad(index, R"(names exactly one of "application" and "caller")");
    if (!has_usd || !has_per) bad(index, R"(needs "usd" and "per")");
    rules.push_back(std::move(r));
    ++index;
  }
  return rules;
}

Window window_of(Period per, std::int64_t now_us) {
  using namespace std::chrono;
  const sys_days today = floor<days>(sys_time<microseconds>(microseconds(now_us)));
  const year_month_day ymd(today);
  char label[16];
  Window w;
  if (per == Period::kDay) {
    std::snprintf(label, sizeof label, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    w.end_us = duration_cast<microseconds>((today + days(1)).time_since_epoch()).count();
  } else {
    std::snprintf(label, sizeof label, "%04d-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()));
    w.end_us = duration_cast<microseconds>(
                   sys_days((ymd.year() / ymd.month() + months(1)) / 1).time_since_epoch())
                   .count();
  }
  w.label = label;
  return w;
}

}  // namespace llmkit::budget
