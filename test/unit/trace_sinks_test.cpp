// Each trace sink writes every column of a batch: SQLite and PostgreSQL
// read back with their own APIs, JSON Lines parsed back.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "pg/connection.h"
#include "support/postgres_server.h"
#include "support/trace_record.h"
#include "trace/record.h"
#include "trace/schema.h"
#include "trace/sink.h"
#include "trace/target.h"

namespace llmkit::trace {
namespace {

// A temporary file's path, removed at scope end.
struct TempPath {
  std::string path;
  explicit TempPath(const std::string& ext) {
    char name[] = "/tmp/llmkit-trace-XXXXXX";
    const int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    std::remove(name);
    path = std::string(name) + ext;
  }
  ~TempPath() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
};

// Text that every escaping rule meets: tab, newline, CR, backslash, quote,
// a control character and non-ASCII.
const char* const kAwkward = "a\tb\nc\rd\\e\"f\x01g \xc3\xa9\xe2\x82\xac";

std::vector<Record> batch() {
  Record a = test::sample_record();
  a.caller = make_string(kAwkward);
  Record b;  // the nullable columns null
  b.call_id = make_string("id-2");
  b.time_us = 1'700'000'000'000'002;
  b.tags = make_string("[]");
  b.metadata = make_string("{}");
  b.provider = make_string("anthropic");
  b.request_model = make_string("claude");
  b.status = make_string("RATE_LIMITED");
  b.error_type = make_string("rate_limit_error");
  b.cache_hit = true;
  return {a, b};
}

// A row as text, column by column: "NULL" for null.
using Row = std::vector<std::string>;

void expect_rows(const std::vector<Row>& rows) {
  ASSERT_EQ(rows.size(), 2u);
  const Row& a = rows[0];
  const Row& b = rows[1];
  ASSERT_EQ(a.size(), kFieldCount);
  EXPECT_EQ(a[0], "7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e");
  EXPECT_EQ(a[1], "1700000000000001");
  EXPECT_EQ(a[2], "shop");
  EXPECT_EQ(a[4], R"(["x","y"])");
  EXPECT_EQ(a[5], R"({"user":"u1"})");
  EXPECT_EQ(a[6], kAwkward);
  EXPECT_EQ(a[7], "chat");
  EXPECT_EQ(a[9], "gpt-4o-mini");
  EXPECT_EQ(a[12], "east");
  EXPECT_EQ(a[13], "ok");
  EXPECT_EQ(a[14], "NULL");
  EXPECT_EQ(a[16], "120");
  EXPECT_EQ(a[18], "100");
  EXPECT_EQ(a[19], "7");
  EXPECT_EQ(a[20], "5");
  EXPECT_DOUBLE_EQ(std::stod(a[21]), 0.000123456789);
  EXPECT_DOUBLE_EQ(std::stod(a[23]), 3.25);
  EXPECT_EQ(a[24], "2");
  EXPECT_EQ(a[25], "1");
  EXPECT_EQ(a[26], "0");
  EXPECT_EQ(a[28], "NULL");
  EXPECT_EQ(b[0], "id-2");
  EXPECT_EQ(b[10], "NULL");
  EXPECT_EQ(b[12], "NULL");
  EXPECT_EQ(b[13], "RATE_LIMITED");
  EXPECT_EQ(b[14], "rate_limit_error");
  EXPECT_EQ(b[23], "NULL");
  EXPECT_EQ(b[26], "1");
  EXPECT_EQ(b[27], "NULL");
}

TEST(TraceRecord, FieldsAreTheTablesColumnsInOrder) {
  std::string joined;
  for (const Field& f : kFields) joined += (joined.empty() ? "" : ", ") + std::string(f.column);
  EXPECT_EQ(joined, kColumns);
}

TEST(TraceSinks, SqliteWritesEveryColumnInWalMode) {
  TempPath db(".db");
  auto sink = open_sink(parse_target("sqlite:" + db.path));
  const auto records = batch();
  sink->write(records);
  sqlite3* c = nullptr;
  ASSERT_EQ(sqlite3_open(db.path.c_str(), &c), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(
          c, ("SELECT " + std::string(kColumns) + " FROM llmkit_traces ORDER BY time_us").c_str(),
          -1, &s, nullptr),
      SQLITE_OK)
      << sqlite3_errmsg(c);
  std::vector<Row> rows;
  while (sqlite3_step(s) == SQLITE_ROW) {
    Row row;
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
      row.emplace_back(text == nullptr
                           ? "NULL"
                           : std::string(text, static_cast<size_t>(sqlite3_column_bytes(s, i))));
    }
    rows.push_back(row);
  }
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_prepare_v2(c, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(c);
  expect_rows(rows);
}

TEST(TraceSinks, SqliteWritesABigBatchInOrder) {
  TempPath db(".db");
  auto sink = open_sink(parse_target(db.path));
  std::vector<Record> records(150, test::sample_record());  // two INSERTs of 64 rows, 22 of one
  for (std::size_t i = 0; i < records.size(); ++i) {
    records[i].call_id = make_string(std::to_string(i));
    records[i].time_us = static_cast<std::int64_t>(i);
  }
  sink->write(records);
  sqlite3* c = nullptr;
  ASSERT_EQ(sqlite3_open(db.path.c_str(), &c), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(c, "SELECT call_id, time_us FROM llmkit_traces ORDER BY rowid", -1,
                               &s, nullptr),
            SQLITE_OK);
  int n = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))),
              std::to_string(n));
    EXPECT_EQ(sqlite3_column_int64(s, 1), n);
    ++n;
  }
  sqlite3_finalize(s);
  sqlite3_close(c);
  EXPECT_EQ(n, 150);
}

TEST(TraceSinks, SqliteFailsAtOnceForAFileItCannotMake) {
  try {
    open_sink(parse_target("/nonexistent-dir/x/traces.db"));
    FAIL() << "opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/traces.db"), std::string::npos);
  }
}

std::vector<Row> pg_rows(const std::string& url) {
  pg::Connection c(url);
  const pg::Rows r =
      c.run("SELECT " + std::string(kColumns) + " FROM llmkit_traces ORDER BY time_us");
  std::vector<Row> rows;
  for (int i = 0; i < r.count(); ++i) {
    Row row;
    for (int j = 0; j < r.columns(); ++j) {
      row.emplace_back(r.is_null(i, j) ? "NULL" : std::string(r.text(i, j)));
    }
    rows.push_back(row);
  }
  return rows;
}

TEST(TraceSinks, PostgresMakesTheTableAndCopiesEveryColumn) {
  test::PostgresServer server;
  auto sink = open_sink(parse_target(server.url()));
  const auto records = batch();
  sink->write(records);
  expect_rows(pg_rows(server.url()));
  pg::Connection c(server.url());
  const pg::Rows idx = c.run("SELECT count(*) FROM pg_indexes WHERE tablename = 'llmkit_traces'");
  EXPECT_EQ(idx.text(0, 0), "3");
}

TEST(TraceSinks, PostgresIsUnavailableWhileDownAndWritesOnceBack) {
  test::PostgresServer server;
  auto sink = open_sink(parse_target(server.url()));
  const auto records = batch();
  sink->write(std::span(records).first(1));
  server.stop();
  try {
    sink->write(std::span(records).last(1));
    FAIL() << "written while the server was down";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_UNAVAILABLE) << e.what();
  }
  server.start();
  sink->write(std::span(records).last(1));
  expect_rows(pg_rows(server.url()));
}

TEST(TraceSinks, JsonlWritesOneObjectPerLineUnderTheOtelNames) {
  TempPath file(".jsonl");
  auto sink = open_sink(parse_target("jsonl:" + file.path));
  const auto records = batch();
  sink->write(records);
  sink->write(std::span(records).first(1));  // appended
  std::ifstream in(file.path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  simdjson::dom::parser parser;
  simdjson::dom::element a = parser.parse(lines[0]);
  EXPECT_EQ(std::string_view(a["llmkit.call_id"]), "7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e");
  EXPECT_EQ(int64_t(a["llmkit.time_us"]), 1'700'000'000'000'001);
  EXPECT_EQ(std::string_view(a["llmkit.caller"]), kAwkward);
  EXPECT_EQ(std::string_view(a["gen_ai.request.model"]), "gpt-4o-mini");
  EXPECT_EQ(std::string_view(a["gen_ai.provider.name"]), "openai");
  EXPECT_EQ(std::string_view(a["gen_ai.operation.name"]), "chat");
  EXPECT_EQ(int64_t(a["gen_ai.usage.input_tokens"]), 120);
  EXPECT_EQ(int64_t(a["gen_ai.usage.cache_read.input_tokens"]), 100);
  EXPECT_EQ(int64_t(a["gen_ai.usage.cache_creation.input_tokens"]), 7);
  EXPECT_EQ(int64_t(a["gen_ai.usage.reasoning.output_tokens"]), 5);
  EXPECT_EQ(std::string_view(a["gen_ai.response.finish_reasons"].at(0)), "stop");
  EXPECT_EQ(std::string_view(a["llmkit.tags"].at(1)), "y");
  EXPECT_EQ(std::string_view(a["llmkit.metadata"]["user"]), "u1");
  EXPECT_DOUBLE_EQ(double(a["llmkit.cost_usd"]), 0.000123456789);
  EXPECT_EQ(std::string_view(a["gen_ai.input.messages"].at(0)["role"]), "user");
  EXPECT_EQ(a["error.type"].error(), simdjson::NO_SUCH_FIELD);  // null: left out
  simdjson::dom::element b = parser.parse(lines[1]);
  EXPECT_EQ(std::string_view(b["error.type"]), "rate_limit_error");
  EXPECT_EQ(b["llmkit.deployment"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(int64_t(b["llmkit.cache_hit"]), 1);
}

}  // namespace
}  // namespace llmkit::trace
