#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <string>

#include "core/error.h"
#include "pg/connection.h"
#include "support/postgres_server.h"
#include "trace/schema.h"
#include "trace/target.h"

namespace llmkit::trace {
namespace {

// A row of every column, NULL where the schema allows it.
std::string insert_statement() {
  return std::string("INSERT INTO llmkit_traces (") + kColumns +
         ") VALUES ('c1', 1, 'app', '', '[]', '{}', '', 'chat', 'openai', 'gpt-4o', NULL, NULL, "
         "NULL, 'ok', NULL, NULL, 1, 2, 0, 0, 0, 0.5, 12.5, NULL, 0, 0, 0, NULL, NULL)";
}

TEST(TraceSchema, CreatesTwiceAndTakesARowInSqlite) {
  char path[] = "/tmp/llmkit-schema-XXXXXX";
  close(mkstemp(path));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
  }
  ASSERT_EQ(sqlite3_exec(db, insert_statement().c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  std::remove(path);
}

TEST(TraceSchema, CreatesTwiceAndTakesARowInPostgres) {
  test::PostgresServer server;
  pg::Connection db(server.url());
  db.run(kSchema);  // several statements: simple query protocol, no parameters
  db.run(kSchema);
  db.run(insert_statement());
  EXPECT_EQ(db.run("SELECT cost_usd FROM llmkit_traces").text(0, 0), "0.5");
}

TEST(TraceTarget, NamesTheStoreByItsPrefix) {
  EXPECT_EQ(parse_target("postgresql://u@h/db").kind, Target::Kind::kPostgres);
  EXPECT_EQ(parse_target("postgres://h/db").where, "postgres://h/db");
  EXPECT_EQ(parse_target("jsonl:/tmp/t.jsonl").kind, Target::Kind::kJsonl);
  EXPECT_EQ(parse_target("jsonl:/tmp/t.jsonl").where, "/tmp/t.jsonl");
  EXPECT_EQ(parse_target("sqlite:/tmp/t.db").where, "/tmp/t.db");
  EXPECT_EQ(parse_target("/tmp/t.db").kind, Target::Kind::kSqlite);
  EXPECT_THROW(parse_target("jsonl:"), Error);
  EXPECT_THROW(parse_target(""), Error);
}

}  // namespace
}  // namespace llmkit::trace
