#include "trace/aggregate.h"

#include <sqlite3.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "core/error.h"
#include "core/json.h"
#include "pg/connection.h"

namespace llmkit::trace {

namespace {

// The figures of Figures, in its order, as the SELECT list sums them. The
// trace sinks write 0 for a call whose model has no price (docs/traces.md),
// and a negative cost_usd would be one too: a call that used tokens, was
// not a cache hit and cost nothing counts as unpriced, never as money.
constexpr const char* kFigures =
    "COUNT(*), "
    "COALESCE(SUM(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(cache_hit), 0), "
    "COALESCE(SUM(CASE WHEN cost_usd < 0 OR (cost_usd = 0 AND cache_hit = 0 AND "
    "gen_ai_usage_input_tokens + gen_ai_usage_output_tokens > 0) THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(gen_ai_usage_input_tokens), 0), "
    "COALESCE(SUM(gen_ai_usage_output_tokens), 0), "
    "COALESCE(SUM(gen_ai_usage_cache_read_input_tokens), 0), "
    "COALESCE(SUM(gen_ai_usage_cache_creation_input_tokens), 0), "
    "COALESCE(SUM(gen_ai_usage_reasoning_output_tokens), 0), "
    "COALESCE(SUM(CASE WHEN cost_usd > 0 THEN cost_usd ELSE 0 END), 0)";
constexpr int kFigureCount = 10;
constexpr const char* kCost = "SUM(CASE WHEN cost_usd > 0 THEN cost_usd ELSE 0 END)";

constexpr const char* kSchemaHint = "; is it the llmkit_traces table of this llmkit version?";

struct Param {
  bool integer = false;
  std::string text;
};

// A statement and its parameters, written for one backend's placeholders.
class Statement {
 public:
  explicit Statement(bool postgres) : postgres_(postgres) {}

  // Appends a placeholder for `value` to the SQL text.
  void bind(std::string value, bool integer) {
    params_.push_back({integer, std::move(value)});
    sql_ += (postgres_ ? "$" : "?") + std::to_string(params_.size());
  }
  std::string& sql() { return sql_; }
  const std::string& sql() const { return sql_; }
  const std::vector<Param>& params() const { return params_; }

 private:
  bool postgres_;
  std::string sql_;
  std::vector<Param> params_;
};

// One result row, read by column from 0.
class Cells {
 public:
  virtual ~Cells() = default;
  virtual std::string text(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;
  virtual double real(int column) const = 0;
};
using RowFn = std::function<void(const Cells&)>;

// The SELECT list's groups: the query's columns, then the bucket.
std::string group_list(const CostQuery& q) {
  std::string out;
  for (const Dimension d : q.by) {
    if (!out.empty()) out += ", ";
    out += column_of(d);
  }
  if (q.per != Bucket::kNone) {
    const char* width = q.per == Bucket::kHour ? "3600000000" : "86400000000";
    if (!out.empty()) out += ", ";
    out += std::string("(time_us / ") + width + ") * " + width;
  }
  return out;
}

// " WHERE ..." for the range and the filters (the same text twice binds
// the parameters twice: each statement numbers its own).
void append_filters(Statement& s, const CostQuery& q) {
  const char* glue = " WHERE ";
  auto add = [&](const char* condition, std::string value, bool integer) {
    s.sql() += glue;
    s.sql() += condition;
    s.bind(std::move(value), integer);
    glue = " AND ";
  };
  if (q.since_us) add("time_us >= ", std::to_string(*q.since_us), true);
  if (q.until_us) add("time_us < ", std::to_string(*q.until_us), true);
  if (q.application) add("application = ", *q.application, false);
  if (q.model) add("gen_ai_request_model = ", *q.model, false);
  if (q.caller) add("caller = ", *q.caller, false);
}

Statement grouped_statement(const CostQuery& q, bool postgres) {
  Statement s(postgres);
  const std::string groups = group_list(q);
  std::string keys;  // the dimensions alone
  for (const Dimension d : q.by) keys += (keys.empty() ? "" : ", ") + std::string(column_of(d));
  s.sql() = "SELECT " + groups + (groups.empty() ? "" : ", ") + kFigures + " FROM llmkit_traces";
  append_filters(s, q);
  const bool bucketed = q.per != Bucket::kNone;
  if (bucketed && q.top > 0 && !keys.empty()) {
    // The costliest groups over the whole range, then their buckets.
    s.sql() += s.params().empty() ? " WHERE (" : " AND (";
    s.sql() += keys + ") IN (SELECT " + keys + " FROM llmkit_traces";
    append_filters(s, q);
    s.sql() +=
        " GROUP BY " + keys + " ORDER BY " + kCost + " DESC, COUNT(*) DESC, " + keys + " LIMIT ";
    s.bind(std::to_string(q.top), true);
    s.sql() += ")";
  }
  if (!groups.empty()) s.sql() += " GROUP BY " + groups;
  const int n = static_cast<int>(q.by.size());
  const std::string cost = std::to_string(n + (bucketed ? 1 : 0) + kFigureCount);
  const std::string requests = std::to_string(n + (bucketed ? 1 : 0) + 1);
  std::string order = cost + " DESC, " + requests + " DESC";
  if (bucketed) order = std::to_string(n + 1) + ", " + order;
  for (int i = 1; i <= n; ++i) order += ", " + std::to_string(i);
  s.sql() += " ORDER BY " + order;
  if (!bucketed && q.top > 0) {
    s.sql() += " LIMIT ";
    s.bind(std::to_string(q.top), true);
  }
  return s;
}

Statement total_statement(const CostQuery& q, bool postgres) {
  Statement s(postgres);
  s.sql() = std::string("SELECT ") + kFigures + " FROM llmkit_traces";
  append_filters(s, q);
  return s;
}

Figures figures_at(const Cells& c, int first) {
  Figures f;
  std::int64_t* const counts[] = {
      &f.requests,        &f.errors,        &f.cache_hits,          &f.unpriced,
      &f.input_tokens,    &f.output_tokens, &f.cached_input_tokens, &f.cache_write_tokens,
      &f.reasoning_tokens};
  int column = first;
  for (std::int64_t* count : counts) *count = c.integer(column++);
  f.cost_usd = c.real(column);
  return f;
}

// ---- SQLite ----------------------------------------------------------------

struct SqliteClose {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct SqliteFinalize {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

class SqliteCells final : public Cells {
 public:
  explicit SqliteCells(sqlite3_stmt* s) : s_(s) {}
  std::string text(int column) const override {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s_, column));
    return t != nullptr ? std::string(t, static_cast<std::size_t>(sqlite3_column_bytes(s_, column)))
                        : std::string();
  }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(s_, column); }
  double real(int column) const override { return sqlite3_column_double(s_, column); }

 private:
  sqlite3_stmt* s_;
};

class Sqlite {
 public:
  explicit Sqlite(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      fail(LLMKIT_NOT_FOUND, "SQLite file " + path + " does not exist");
    }
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK) failed("cannot open it");
    // A writer may hold the lock for a moment.
    sqlite3_busy_timeout(db, 5000);
  }

  void run(const Statement& s, const RowFn& fn) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), s.sql().c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      failed("a query failed");
    }
    const std::unique_ptr<sqlite3_stmt, SqliteFinalize> stmt(raw);
    int i = 1;
    for (const Param& p : s.params()) {
      if (p.integer) {
        sqlite3_bind_int64(raw, i++, std::strtoll(p.text.c_str(), nullptr, 10));
      } else {
        sqlite3_bind_text(raw, i++, p.text.data(), static_cast<int>(p.text.size()),
                          SQLITE_TRANSIENT);
      }
    }
    const SqliteCells cells(raw);
    int rc = 0;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) fn(cells);
    if (rc != SQLITE_DONE) failed("a query failed");
  }

  bool has_traces() {
    bool found = false;
    Statement s(false);
    s.sql() = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llmkit_traces'";
    run(s, [&](const Cells&) { found = true; });
    return found;
  }

 private:
  [[noreturn]] void failed(const std::string& what) {
    const int code = sqlite3_errcode(db_.get());
    const llmkit_status status =
        code == SQLITE_BUSY || code == SQLITE_LOCKED ? LLMKIT_UNAVAILABLE : LLMKIT_INVALID_ARGUMENT;
    // SQLITE_ERROR: a statement the file's tables do not fit.
    fail(status, "SQLite file " + path_ + ": " + what + ": " + sqlite3_errmsg(db_.get()) +
                     (code == SQLITE_ERROR ? kSchemaHint : ""));
  }

  std::string path_;
  std::unique_ptr<sqlite3, SqliteClose> db_;
};

// ---- PostgreSQL ----------------------------------------------------------

class PgCells final : public Cells {
 public:
  PgCells(const pg::Rows& rows, int row) : rows_(rows), row_(row) {}
  std::string text(int column) const override { return std::string(rows_.text(row_, column)); }
  std::int64_t integer(int column) const override {
    // SUM of BIGINT is NUMERIC: whole numbers here, written without a point.
    const std::string_view t = rows_.text(row_, column);
    std::int64_t v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
  }
  double real(int column) const override {
    return std::strtod(std::string(rows_.text(row_, column)).c_str(), nullptr);
  }

 private:
  const pg::Rows& rows_;
  int row_;
};

void pg_run(pg::Connection& db, const Statement& s, const RowFn& fn) {
  std::vector<std::optional<std::string_view>> params;
  params.reserve(s.params().size());
  for (const Param& p : s.params()) params.emplace_back(p.text);
  const pg::Rows rows = db.run(s.sql(), params);
  for (int r = 0; r < rows.count(); ++r) fn(PgCells(rows, r));
}

using Runner = std::function<void(const Statement&, const RowFn&)>;

// Opens `target`'s database and calls `use(postgres, run)` with a runner
// of statements on it; nothing when it has no traces table yet.
// UNSUPPORTED with `jsonl_refusal` for a JSON Lines target.
void with_traces(const Target& target, const std::string& jsonl_refusal,
                 const std::function<void(bool, const Runner&)>& use) {
  switch (target.kind) {
    case Target::Kind::kJsonl:
      fail(LLMKIT_UNSUPPORTED, jsonl_refusal);
    case Target::Kind::kSqlite: {
      Sqlite db(target.where);
      if (db.has_traces()) use(false, [&](const Statement& s, const RowFn& fn) { db.run(s, fn); });
      return;
    }
    case Target::Kind::kPostgres: {
      pg::Connection db(target.where);
      if (db.run("SELECT to_regclass('llmkit_traces') IS NULL").text(0, 0) == "t") return;
      use(true, [&](const Statement& s, const RowFn& fn) { pg_run(db, s, fn); });
      return;
    }
  }
  fail(LLMKIT_INTERNAL, "an unknown kind of trace target");
}

template <class Run>
CostReport collect(const CostQuery& q, bool postgres, Run&& run) {
  CostReport report;
  report.query = q;
  const int n = static_cast<int>(q.by.size());
  const bool bucketed = q.per != Bucket::kNone;
  run(grouped_statement(q, postgres), [&](const Cells& c) {
    CostRow row;
    for (int i = 0; i < n; ++i) row.keys.push_back(c.text(i));
    if (bucketed) row.bucket_us = c.integer(n);
    row.figures = figures_at(c, n + (bucketed ? 1 : 0));
    report.rows.push_back(std::move(row));
  });
  run(total_statement(q, postgres), [&](const Cells& c) { report.total = figures_at(c, 0); });
  return report;
}

void append_figures(String& out, const Figures& f) {
  const char* glue = "";
  for (const auto& [name, value] : named(f)) {
    out += glue;
    json::append_string(out, name);
    char number[32];
    out += ':';
    out.append(number, std::to_chars(number, number + sizeof number, value).ptr);
    glue = ",";
  }
}

}  // namespace

std::array<std::pair<std::string_view, double>, 10> named(const Figures& f) {
  auto d = [](std::int64_t v) { return static_cast<double>(v); };
  return {{{"requests", d(f.requests)},
           {"errors", d(f.errors)},
           {"cache_hits", d(f.cache_hits)},
           {"unpriced", d(f.unpriced)},
           {"input_tokens", d(f.input_tokens)},
           {"output_tokens", d(f.output_tokens)},
           {"cached_input_tokens", d(f.cached_input_tokens)},
           {"cache_write_tokens", d(f.cache_write_tokens)},
           {"reasoning_tokens", d(f.reasoning_tokens)},
           {"cost_usd", f.cost_usd}}};
}

CostReport aggregate(const Target& target, const CostQuery& query) {
  CostReport report{query, {}, {}};
  with_traces(target,
              "costs are summed in SQLite or PostgreSQL, not in a JSON Lines file (" +
                  target.where + "): send traces to a database for them",
              [&](bool postgres, const Runner& run) { report = collect(query, postgres, run); });
  return report;
}

namespace {

constexpr const char* kRecordColumns =
    "SELECT gen_ai_operation_name, gen_ai_request_model, gen_ai_provider_name, "
    "COALESCE(deployment, ''), status, gen_ai_usage_input_tokens, gen_ai_usage_output_tokens, "
    "gen_ai_usage_cache_read_input_tokens, gen_ai_usage_cache_creation_input_tokens, "
    "gen_ai_usage_reasoning_output_tokens, cost_usd, latency_ms, COALESCE(ttft_ms, -1), retries, "
    "fallback, cache_hit FROM llmkit_traces";

Record record_at(const Cells& c) {
  Record r;
  r.operation = make_string(c.text(0));
  r.request_model = make_string(c.text(1));
  r.provider = make_string(c.text(2));
  if (std::string d = c.text(3); !d.empty()) r.deployment = make_string(d);
  r.status = make_string(c.text(4));
  r.input_tokens = c.integer(5);
  r.output_tokens = c.integer(6);
  r.cache_read_tokens = c.integer(7);
  r.cache_creation_tokens = c.integer(8);
  r.reasoning_tokens = c.integer(9);
  r.cost_usd = c.real(10);
  r.latency_ms = c.real(11);
  if (const double ttft = c.real(12); ttft >= 0) r.ttft_ms = ttft;
  r.retries = static_cast<int>(c.integer(13));
  r.fallback = c.integer(14) != 0;
  r.cache_hit = c.integer(15) != 0;
  return r;
}

}  // namespace

void for_each_record(const Target& target, const std::function<void(const Record&)>& fn) {
  with_traces(target,
              "traces are read back from SQLite or PostgreSQL, not from a JSON Lines file (" +
                  target.where + ")",
              [&](bool postgres, const Runner& run) {
                Statement s(postgres);
                s.sql() = kRecordColumns;
                run(s, [&](const Cells& c) { fn(record_at(c)); });
              });
}

String to_json(const CostReport& report) {
  String out = "{\"rows\":[";
  bool first = true;
  for (const CostRow& row : report.rows) {
    out += first ? "{" : ",{";
    first = false;
    for (std::size_t i = 0; i < row.keys.size(); ++i) {
      json::append_string(out, name_of(report.query.by[i]));
      out += ':';
      json::append_string(out, row.keys[i]);
      out += ',';
    }
    if (report.query.per != Bucket::kNone) {
      out += "\"time\":";
      json::append_string(out, iso_time(row.bucket_us));
      out += ',';
    }
    append_figures(out, row.figures);
    out += '}';
  }
  out += "],\"total\":{";
  append_figures(out, report.total);
  out += "}}";
  return out;
}

}  // namespace llmkit::trace
