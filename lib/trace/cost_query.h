// What `llmkit costs` and llmkit_costs_query() ask of the traces table:
// which columns to group by, the time bucket, the range, equality filters
// and how many groups to keep. Parsed from key/value options, so the C API
// and the CLI read the same words (docs/costs.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "options/options.h"

namespace llmkit::trace {

// What a row can be grouped by. The column behind each is fixed here, never
// taken from the query's text.
enum class Dimension { kApplication, kModel, kProvider, kCaller, kDeployment };

// The word a query uses ("model") and the SQL expression it reads.
std::string_view name_of(Dimension d) noexcept;
std::string_view column_of(Dimension d) noexcept;

enum class Bucket { kNone, kHour, kDay };

struct CostQuery {
  std::vector<Dimension> by;  // in the order given; empty: one group
  Bucket per = Bucket::kNone;
  std::optional<std::int64_t> since_us;  // µs since the Unix epoch (UTC), inclusive
  std::optional<std::int64_t> until_us;  // exclusive
  std::optional<std::string> application, model, caller;
  std::int64_t top = 0;  // groups kept, the costliest; 0: all
};

// Reads "by" (a comma-separated list of application, model, provider,
// caller, deployment; default "model"; "" for none), "per" (hour, day),
// "since" and "until" (see parse_time), "top", and the filters
// "application", "model", "caller". INVALID_ARGUMENT naming the key for an
// unknown key or a bad value. `now_us` is the wall clock's now, for
// durations.
CostQuery parse_cost_query(const Options& query, std::int64_t now_us);

// A point in time as µs since the Unix epoch: a duration back from
// `now_us` ("30m", "24h", "7d", "90s"), Unix seconds ("1735689600"), or an
// ISO-8601 UTC date or time ("2025-01-01", "2025-01-01T12:00:00Z", the Z
// optional). INVALID_ARGUMENT naming `key` otherwise.
std::int64_t parse_time(std::string_view text, std::string_view key, std::int64_t now_us);

// "2025-01-01T12:00:00Z" for a time in µs since the epoch (seconds kept).
std::string iso_time(std::int64_t us);

// The wall clock, µs since the Unix epoch.
std::int64_t wall_clock_us() noexcept;

}  // namespace llmkit::trace
