// llmkit_costs_query: the traces table summed, in SQLite and in a real
// PostgreSQL, with the same rows and the same answers.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "llmkit.h"
#include "options/options.h"
#include "pg/connection.h"
#include "support/c_options.h"
#include "support/postgres_server.h"
#include "trace/cost_query.h"
#include "trace/schema.h"

namespace {

using Options = llmkit::test::COptions;

constexpr long long kT0 = 1735689600;  // 2025-01-01T00:00:00Z

struct Trace {
  long long minute;  // after kT0
  const char* application;
  const char* caller;
  const char* model;
  const char* provider;
  const char* deployment;  // nullptr: NULL
  const char* status;
  int input, output, cached, cache_write, reasoning;
  double cost;
  int cache_hit;
};

// Costs 2.0 claude, 1.5 gpt-4o (an error, a cache hit), llama unpriced.
const Trace kTraces[] = {
    {10, "shop", "alice", "gpt-4o", "openai", nullptr, "ok", 100, 50, 10, 0, 0, 0.5, 0},
    {20, "shop", "bob", "gpt-4o", "openai", nullptr, "ok", 200, 100, 0, 0, 0, 1.0, 0},
    {70, "shop", "alice", "claude", "anthropic", "claude-a", "ok", 1000, 10, 0, 500, 5, 2.0, 0},
    {80, "blog", "alice", "gpt-4o", "openai", nullptr, "RATE_LIMITED", 0, 0, 0, 0, 0, 0, 0},
    {90, "blog", "carol", "gpt-4o", "openai", nullptr, "ok", 100, 50, 0, 0, 0, 0, 1},
    // No price: the trace sinks write a cost of 0.
    {25 * 60, "blog", "carol", "llama", "ollama", nullptr, "ok", 10, 10, 0, 0, 0, 0, 0},
};

std::string quoted(const char* s) {
  return s == nullptr ? "NULL" : "'" + std::string(s) + "'";
}

std::string insert_of(const Trace& t, int id) {
  return std::string("INSERT INTO llmkit_traces (") + llmkit::trace::kColumns + ") VALUES ('c" +
         std::to_string(id) + "', " + std::to_string((kT0 + t.minute * 60) * 1'000'000) + ", " +
         quoted(t.application) + ", '', '[]', '{}', " + quoted(t.caller) + ", 'chat', " +
         quoted(t.provider) + ", " + quoted(t.model) + ", NULL, NULL, " + quoted(t.deployment) +
         ", " + quoted(t.status) + ", NULL, NULL, " + std::to_string(t.input) + ", " +
         std::to_string(t.output) + ", " + std::to_string(t.cached) + ", " +
         std::to_string(t.cache_write) + ", " + std::to_string(t.reasoning) + ", " +
         std::to_string(t.cost) + ", 12.5, NULL, 0, 0, " + std::to_string(t.cache_hit) +
         ", NULL, NULL)";
}

void fill(const std::function<void(const std::string&)>& exec) {
  exec(llmkit::trace::kSchema);
  int id = 0;
  for (const Trace& t : kTraces) exec(insert_of(t, ++id));
}

struct Costs {
  llmkit_costs* c = nullptr;
  llmkit_status status = LLMKIT_OK;
  Costs(const std::string& db, const std::vector<std::pair<const char*, const char*>>& query) {
    Options o;
    for (const auto& [k, v] : query) o.set(k, v);
    status = llmkit_costs_query(db.c_str(), o.o, &c);
  }
  ~Costs() { llmkit_costs_free(c); }
  Costs(const Costs&) = delete;
  Costs& operator=(const Costs&) = delete;

  size_t rows() const { return llmkit_costs_count(c); }
  std::string get(size_t row, const char* name) const {
    const char* v = nullptr;
    EXPECT_EQ(llmkit_costs_get(c, row, name, &v), LLMKIT_OK) << name << ": " << llmkit_last_error();
    return v != nullptr ? v : "<none>";
  }
  double number(size_t row, const char* name) const {
    double v = -99;
    EXPECT_EQ(llmkit_costs_number(c, row, name, &v), LLMKIT_OK) << name;
    return v;
  }
  std::string json() const {
    const char* j = nullptr;
    size_t len = 0;
    EXPECT_EQ(llmkit_costs_json(c, &j, &len), LLMKIT_OK);
    return j != nullptr ? std::string(j, len) : "";
  }
};

// The same questions of either database.
void expect_answers(const std::string& db) {
  {
    Costs by_model(db, {});  // "by" defaults to model
    ASSERT_EQ(by_model.status, LLMKIT_OK) << llmkit_last_error();
    ASSERT_EQ(by_model.rows(), 3u);
    EXPECT_EQ(by_model.get(0, "model"), "claude");
    EXPECT_EQ(by_model.get(1, "model"), "gpt-4o");
    EXPECT_EQ(by_model.get(2, "model"), "llama");
    EXPECT_EQ(by_model.number(0, "cost_usd"), 2.0);
    EXPECT_EQ(by_model.number(0, "cache_write_tokens"), 500);
    EXPECT_EQ(by_model.number(0, "reasoning_tokens"), 5);
    EXPECT_EQ(by_model.number(1, "requests"), 4);
    EXPECT_EQ(by_model.number(1, "errors"), 1);
    EXPECT_EQ(by_model.number(1, "cache_hits"), 1);
    EXPECT_EQ(by_model.number(1, "cost_usd"), 1.5);
    EXPECT_EQ(by_model.number(1, "cached_input_tokens"), 10);
    EXPECT_EQ(by_model.number(1, "unpriced"), 0);  // neither the cache hit nor the error
    EXPECT_EQ(by_model.number(2, "unpriced"), 1);
    EXPECT_EQ(by_model.number(2, "cost_usd"), 0);
    EXPECT_EQ(by_model.number(LLMKIT_COSTS_TOTAL, "unpriced"), 1);
    EXPECT_EQ(by_model.number(LLMKIT_COSTS_TOTAL, "requests"), 6);
    EXPECT_EQ(by_model.number(LLMKIT_COSTS_TOTAL, "input_tokens"), 1410);
    EXPECT_EQ(by_model.number(LLMKIT_COSTS_TOTAL, "output_tokens"), 220);
    EXPECT_EQ(by_model.number(LLMKIT_COSTS_TOTAL, "cost_usd"), 3.5);
    const char* v = nullptr;
    EXPECT_EQ(llmkit_costs_get(by_model.c, 0, "caller", &v), LLMKIT_NOT_FOUND);
    EXPECT_EQ(llmkit_costs_get(by_model.c, 3, "model", &v), LLMKIT_NOT_FOUND);
    double d = 0;
    EXPECT_EQ(llmkit_costs_number(by_model.c, 0, "dollars", &d), LLMKIT_NOT_FOUND);
    EXPECT_EQ(by_model.json().substr(0, 66),
              R"({"rows":[{"model":"claude","requests":1,"errors":0,"cache_hits":0,)");
    EXPECT_NE(by_model.json().find(R"("total":{"requests":6,)"), std::string::npos);
  }
  {
    // The range: the last day's llama call is past "until".
    Costs ranged(db, {{"since", "2025-01-01"}, {"until", "2025-01-02T00:00:00Z"}});
    ASSERT_EQ(ranged.status, LLMKIT_OK) << llmkit_last_error();
    EXPECT_EQ(ranged.rows(), 2u);
    EXPECT_EQ(ranged.number(LLMKIT_COSTS_TOTAL, "requests"), 5);
  }
  {
    Costs gpt_callers(db, {{"by", "caller"}, {"model", "gpt-4o"}});
    ASSERT_EQ(gpt_callers.rows(), 3u);
    EXPECT_EQ(gpt_callers.get(0, "caller"), "bob");
    EXPECT_EQ(gpt_callers.get(1, "caller"), "alice");
    EXPECT_EQ(gpt_callers.number(1, "requests"), 2);
    EXPECT_EQ(gpt_callers.get(2, "caller"), "carol");
  }
  {
    // Top 2 of 4 groups; the total still counts every call.
    Costs top(db, {{"by", "application,caller"}, {"top", "2"}});
    ASSERT_EQ(top.rows(), 2u);
    EXPECT_EQ(top.get(0, "application") + "/" + top.get(0, "caller"), "shop/alice");
    EXPECT_EQ(top.number(0, "cost_usd"), 2.5);
    EXPECT_EQ(top.get(1, "application") + "/" + top.get(1, "caller"), "shop/bob");
    EXPECT_EQ(top.number(LLMKIT_COSTS_TOTAL, "requests"), 6);
  }
  {
    Costs hourly(db, {{"by", "model"}, {"per", "hour"}});
    ASSERT_EQ(hourly.rows(), 4u);
    EXPECT_EQ(hourly.get(0, "time"), "2025-01-01T00:00:00Z");
    EXPECT_EQ(hourly.get(0, "model"), "gpt-4o");
    EXPECT_EQ(hourly.get(1, "time"), "2025-01-01T01:00:00Z");
    EXPECT_EQ(hourly.get(1, "model"), "claude");
    EXPECT_EQ(hourly.get(2, "model"), "gpt-4o");
    EXPECT_EQ(hourly.get(3, "time"), "2025-01-02T01:00:00Z");
    // The costliest group over the range, each hour it ran.
    Costs top_hourly(db, {{"by", "model"}, {"per", "hour"}, {"top", "1"}});
    ASSERT_EQ(top_hourly.rows(), 1u);
    EXPECT_EQ(top_hourly.get(0, "model"), "claude");
  }
  {
    Costs daily(db, {{"by", ""}, {"per", "day"}});
    ASSERT_EQ(daily.rows(), 2u);
    EXPECT_EQ(daily.get(1, "time"), "2025-01-02T00:00:00Z");
    EXPECT_EQ(daily.number(0, "cost_usd"), 3.5);
    Costs deployments(db, {{"by", "deployment,provider"}});
    ASSERT_EQ(deployments.rows(), 3u);
    EXPECT_EQ(deployments.get(0, "deployment"), "claude-a");
    EXPECT_EQ(deployments.get(1, "deployment"), "");  // NULL: the client's own provider
  }
  {
    // A value is a parameter, never SQL.
    Costs injected(db, {{"model", "x' OR '1'='1"}});
    ASSERT_EQ(injected.status, LLMKIT_OK) << llmkit_last_error();
    EXPECT_EQ(injected.rows(), 0u);
    EXPECT_EQ(injected.number(LLMKIT_COSTS_TOTAL, "requests"), 0);
  }
}

std::string temp_path() {
  char path[] = "/tmp/llmkit-costs-XXXXXX";
  close(mkstemp(path));
  return path;
}

TEST(Costs, SumsTracesInSqlite) {
  const std::string path = temp_path();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  fill([&](const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
  });
  sqlite3_close(db);
  expect_answers(path);
  expect_answers("sqlite:" + path);
  std::remove(path.c_str());
}

TEST(Costs, SumsTracesInPostgres) {
  llmkit::test::PostgresServer server;
  llmkit::pg::Connection db(server.url());
  fill([&](const std::string& sql) { db.run(sql); });
  expect_answers(server.url());
  server.stop();
  Costs down(server.url(), {});
  EXPECT_EQ(down.status, LLMKIT_UNAVAILABLE);
  EXPECT_NE(std::string(llmkit_last_error()).find("127.0.0.1"), std::string::npos);
}

TEST(Costs, ADatabaseWithoutTracesYetIsEmpty) {
  const std::string path = temp_path();  // an empty file is an empty SQLite database
  Costs empty(path, {{"by", "caller"}});
  ASSERT_EQ(empty.status, LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(empty.rows(), 0u);
  EXPECT_EQ(empty.json(),
            R"({"rows":[],"total":{"requests":0,"errors":0,"cache_hits":0,"unpriced":0,)"
            R"("input_tokens":0,"output_tokens":0,"cached_input_tokens":0,)"
            R"("cache_write_tokens":0,"reasoning_tokens":0,"cost_usd":0}})");
  std::remove(path.c_str());
  llmkit::test::PostgresServer server;
  Costs none(server.url(), {});
  ASSERT_EQ(none.status, LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(none.rows(), 0u);
}

TEST(Costs, RefusesWhatItCannotAnswer) {
  llmkit_costs* c = nullptr;
  EXPECT_EQ(llmkit_costs_query("/nonexistent/traces.db", nullptr, &c), LLMKIT_NOT_FOUND);
  EXPECT_EQ(llmkit_costs_query("jsonl:/tmp/t.jsonl", nullptr, &c), LLMKIT_UNSUPPORTED);
  EXPECT_NE(std::string(llmkit_last_error()).find("JSON Lines"), std::string::npos);
  EXPECT_EQ(llmkit_costs_query(nullptr, nullptr, &c), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(c, nullptr);
  const std::string path = temp_path();
  for (const auto& [key, value] :
       std::vector<std::pair<const char*, const char*>>{{"by", "model,colour"},
                                                        {"by", "model,model"},
                                                        {"per", "week"},
                                                        {"since", "yesterday"},
                                                        {"until", "2025-02-30"},
                                                        {"top", "-1"},
                                                        {"group", "model"}}) {
    Costs bad(path, {{key, value}});
    EXPECT_EQ(bad.status, LLMKIT_INVALID_ARGUMENT) << key << "=" << value;
    EXPECT_NE(std::string(llmkit_last_error()).find(key), std::string::npos) << llmkit_last_error();
  }
  // A file that is no database; a traces table of another shape.
  std::FILE* text = std::fopen(path.c_str(), "w");
  ASSERT_NE(text, nullptr);
  std::fputs("call_id,time_us\nc1,1735689600000000\n", text);
  std::fclose(text);
  EXPECT_EQ(llmkit_costs_query(path.c_str(), nullptr, &c), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("not a database"), std::string::npos)
      << llmkit_last_error();
  std::remove(path.c_str());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE llmkit_traces (call_id TEXT)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(llmkit_costs_query(path.c_str(), nullptr, &c), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("llmkit_traces table of this llmkit version"),
            std::string::npos)
      << llmkit_last_error();
  EXPECT_EQ(c, nullptr);
  std::remove(path.c_str());
  EXPECT_EQ(llmkit_costs_count(nullptr), 0u);
}

TEST(CostsQuery, ReadsDurationsUnixSecondsAndIsoTimes) {
  using llmkit::trace::parse_time;
  const long long now = 1'800'000'000'000'000;
  EXPECT_EQ(parse_time("24h", "since", now), now - 86'400'000'000LL);
  EXPECT_EQ(parse_time("7d", "since", now), now - 7 * 86'400'000'000LL);
  EXPECT_EQ(parse_time("30m", "since", now), now - 1'800'000'000LL);
  EXPECT_EQ(parse_time("90s", "since", now), now - 90'000'000LL);
  EXPECT_EQ(parse_time("1735689600", "since", now), kT0 * 1'000'000);
  EXPECT_EQ(parse_time("2025-01-01", "since", now), kT0 * 1'000'000);
  EXPECT_EQ(parse_time("2025-01-01T01:02:03Z", "since", now), (kT0 + 3723) * 1'000'000);
  EXPECT_EQ(parse_time("2025-01-01T01:02", "since", now), (kT0 + 3720) * 1'000'000);
  for (const char* bad : {"", "h", "24x", "2025-1-1", "2025-01-01T25:00", "2025-01-01Zx", "-5"}) {
    EXPECT_THROW(parse_time(bad, "since", now), llmkit::Error) << bad;
  }
  EXPECT_EQ(llmkit::trace::iso_time(kT0 * 1'000'000 + 3723'000'000), "2025-01-01T01:02:03Z");
}

}  // namespace
