// Cost, tokens and requests summed from the traces table (schema.h) in
// SQLite or PostgreSQL, grouped as a CostQuery asks: what `llmkit costs`
// and llmkit_costs_query() print. One parameterised statement per backend;
// the query's values never become SQL text (docs/costs.md).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/alloc.h"
#include "trace/cost_query.h"
#include "trace/record.h"
#include "trace/target.h"

namespace llmkit::trace {

struct Figures {
  std::int64_t requests = 0;
  std::int64_t errors = 0;      // status other than "ok"
  std::int64_t cache_hits = 0;  // answered by the response cache
  std::int64_t unpriced = 0;    // calls with tokens, no cache hit and no cost: no price
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cached_input_tokens = 0;  // part of input_tokens
  std::int64_t cache_write_tokens = 0;   // part of input_tokens
  std::int64_t reasoning_tokens = 0;     // part of output_tokens
  double cost_usd = 0;
};

// The figures by name ("requests", ..., "cost_usd"), in Figures' order:
// the names of the JSON and the C API.
std::array<std::pair<std::string_view, double>, 10> named(const Figures& f);

struct CostRow {
  std::vector<std::string> keys;  // one per CostQuery::by, in its order
  std::int64_t bucket_us = 0;     // the hour's or day's start, with a Bucket
  Figures figures;
};

struct CostReport {
  CostQuery query;
  std::vector<CostRow> rows;  // costliest first; by time, then cost, with a Bucket
  Figures total;              // every call in range and filters, not only the top rows
};

// Runs `query` against `target`. A database without the traces table yet
// gives an empty report. NOT_FOUND for a SQLite file that does not exist;
// UNSUPPORTED for a JSON Lines target; UNAVAILABLE when PostgreSQL cannot be
// reached; INVALID_ARGUMENT with the database's message for a statement it
// refuses (a table of another shape).
CostReport aggregate(const Target& target, const CostQuery& query);

// Calls `fn` with every call of `target`'s traces table, in no set order,
// holding the columns a call's figures come from (operation, provider,
// models, deployment, status, tokens, cost, latency, time to first token,
// retries, fallback, cache hit); the other members are left empty. Fails
// as aggregate() does.
void for_each_record(const Target& target, const std::function<void(const Record&)>& fn);

// The report as one JSON object: {"rows": [...], "total": {...}}, each row
// holding its keys by name, "time" (ISO-8601 UTC) with a bucket, and the
// figures by their names above.
String to_json(const CostReport& report);

}  // namespace llmkit::trace
