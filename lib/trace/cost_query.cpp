#include "trace/cost_query.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <utility>

#include "core/error.h"
#include "core/utf8.h"

namespace llmkit::trace {

namespace {

constexpr std::array<std::pair<Dimension, std::string_view>, 5> kNames = {{
    {Dimension::kApplication, "application"},
    {Dimension::kModel, "model"},
    {Dimension::kProvider, "provider"},
    {Dimension::kCaller, "caller"},
    {Dimension::kDeployment, "deployment"},
}};

constexpr std::string_view kKnown[] = {"by",  "per",         "since", "until",
                                       "top", "application", "model", "caller"};

[[noreturn]] void bad(std::string_view key, std::string_view value, std::string_view why) {
  fail(LLMKIT_INVALID_ARGUMENT,
       "costs query \"" + std::string(key) + "\": " + utf8::quote(value) + " " + std::string(why));
}

// Digits only, into `out`; false for anything else or an overflow.
bool whole(std::string_view s, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

// "YYYY-MM-DD", then optionally "THH:MM[:SS]" and a "Z".
std::optional<std::int64_t> iso_us(std::string_view s) {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int used = 0;
  const std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2u-%2u%n", &y, &mo, &d, &used) != 3 || used != 10) {
    return std::nullopt;
  }
  std::string_view rest = s.substr(10);
  if (!rest.empty() && (rest[0] == 'T' || rest[0] == ' ')) {
    const std::string time(rest.substr(1));
    int n = 0;
    if (std::sscanf(time.c_str(), "%2u:%2u%n:%2u%n", &h, &mi, &n, &sec, &n) < 2 || h > 23 ||
        mi > 59 || sec > 60) {
      return std::nullopt;
    }
    rest.remove_prefix(1 + static_cast<std::size_t>(n));
  }
  if (rest == "Z") rest = {};
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{mo},
                                         std::chrono::day{d}};
  if (!rest.empty() || !date.ok()) return std::nullopt;
  const auto days = std::chrono::sys_days(date).time_since_epoch().count();
  return ((days * 24 + h) * 60 + mi) * 60'000'000LL + sec * 1'000'000LL;
}

}  // namespace

std::string_view name_of(Dimension d) noexcept {
  for (const auto& [dim, name] : kNames) {
    if (dim == d) return name;
  }
  return {};
}

std::string_view column_of(Dimension d) noexcept {
  switch (d) {
    case Dimension::kApplication:
      return "application";
    case Dimension::kModel:
      return "gen_ai_request_model";
    case Dimension::kProvider:
      return "gen_ai_provider_name";
    case Dimension::kCaller:
      return "caller";
    case Dimension::kDeployment:
      return "COALESCE(deployment, '')";  // NULL for a client's own provider
  }
  return {};
}

std::int64_t wall_clock_us() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t parse_time(std::string_view text, std::string_view key, std::int64_t now_us) {
  std::int64_t n = 0;
  if (whole(text, n)) {
    if (n > (std::int64_t{1} << 40)) bad(key, text, "is too far in the future");
    return n * 1'000'000;
  }
  if (text.size() >= 2 && whole(text.substr(0, text.size() - 1), n)) {
    constexpr std::pair<char, std::int64_t> kUnits[] = {
        {'s', 1'000'000LL}, {'m', 60'000'000LL}, {'h', 3'600'000'000LL}, {'d', 86'400'000'000LL}};
    for (const auto& [unit, us] : kUnits) {
      if (text.back() != unit) continue;
      if (n > (std::int64_t{1} << 62) / us) bad(key, text, "is too long");
      return now_us - n * us;
    }
  }
  if (const auto us = iso_us(text)) return *us;
  bad(key, text,
      "is no time: give a duration back from now (30m, 24h, 7d), Unix seconds, or an "
      "ISO-8601 UTC time (2025-01-31 or 2025-01-31T12:00:00Z)");
}

std::string iso_time(std::int64_t us) {
  const std::int64_t s = us >= 0 ? us / 1'000'000 : (us - 999'999) / 1'000'000;
  const std::int64_t day = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  const std::int64_t in_day = s - day * 86400;
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{day}}};
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60));
  return out;
}

CostQuery parse_cost_query(const Options& query, std::int64_t now_us) {
  query.require_known(kKnown, "a costs query");
  CostQuery q;
  std::string_view by = query.get_string("by", "model");
  while (!by.empty()) {
    const auto comma = by.find(',');
    const std::string_view word = by.substr(0, comma);
    by = comma == std::string_view::npos ? std::string_view() : by.substr(comma + 1);
    bool found = false;
    for (const auto& [dim, name] : kNames) {
      if (name != word) continue;
      for (const Dimension seen : q.by) {
        if (seen == dim) bad("by", word, "is named twice");
      }
      q.by.push_back(dim);
      found = true;
    }
    if (!found) bad("by", word, "is not one of application, model, provider, caller, deployment");
  }
  if (const String* per = query.find("per")) {
    if (*per == "hour") {
      q.per = Bucket::kHour;
    } else if (*per == "day") {
      q.per = Bucket::kDay;
    } else {
      bad("per", *per, "is not hour or day");
    }
  }
  if (const String* since = query.find("since")) q.since_us = parse_time(*since, "since", now_us);
  if (const String* until = query.find("until")) q.until_us = parse_time(*until, "until", now_us);
  q.top = query.get_int("top", 0, 0, std::int64_t{1} << 31);
  for (auto [key, slot] : {std::pair{"application", &q.application}, std::pair{"model", &q.model},
                           std::pair{"caller", &q.caller}}) {
    if (const String* v = query.find(key)) *slot = std::string(*v);
  }
  return q;
}

}  // namespace llmkit::trace
