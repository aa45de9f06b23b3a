#include "pg/connection.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "core/error.h"
#include "support/postgres_server.h"

namespace llmkit::pg {
namespace {

using Param = std::optional<std::string_view>;

llmkit_status status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.status();
  }
  return LLMKIT_OK;
}

TEST(PgConnection, RunsStatementsWithParametersAndNulls) {
  test::PostgresServer server;
  Connection db(server.url());
  db.run("CREATE TABLE t (a TEXT, b BIGINT)");
  const Param params[] = {Param("it's \"quoted\""), std::nullopt};
  db.run("INSERT INTO t VALUES ($1, $2)", params);
  Rows rows = db.run("SELECT a, b FROM t");
  ASSERT_EQ(rows.count(), 1);
  EXPECT_EQ(rows.text(0, 0), "it's \"quoted\"");
  EXPECT_TRUE(rows.is_null(0, 1));
  EXPECT_EQ(db.where(), "127.0.0.1:" + std::to_string(server.port()) + "/postgres");
}

TEST(PgConnection, CopiesRowsInAndSaysWhyABadStatementFailed) {
  test::PostgresServer server;
  Connection db(server.url());
  db.run("CREATE TABLE t (a TEXT, b BIGINT)");
  db.copy_in("COPY t (a, b) FROM STDIN", "x\t1\ny\t\\N\n");
  EXPECT_EQ(db.run("SELECT count(*), count(b) FROM t").text(0, 0), "2");
  try {
    db.run("SELECT nope FROM t");
    FAIL() << "a bad statement ran";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
  // A failed COPY leaves the connection usable.
  EXPECT_EQ(status_of([&] { db.copy_in("COPY t (a, b) FROM STDIN", "x\tnot a number\n"); }),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(db.run("SELECT count(*) FROM t").text(0, 0), "2");
}

TEST(PgConnection, IsUnavailableWhileTheServerIsDownAndReconnectsAfter) {
  test::PostgresServer server;
  Connection db("postgresql://llmkit:secret-pw@127.0.0.1:" + std::to_string(server.port()) +
                "/postgres");
  db.run("CREATE TABLE t (a INT)");
  server.stop();
  try {
    db.run("INSERT INTO t VALUES (1)");
    FAIL() << "ran with the server down";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_UNAVAILABLE);
    EXPECT_EQ(std::string(e.what()).find("secret-pw"), std::string::npos) << e.what();
  }
  EXPECT_EQ(status_of([&] { db.run("SELECT 1"); }), LLMKIT_UNAVAILABLE);
  server.start();
  db.run("INSERT INTO t VALUES (1)");
  EXPECT_EQ(db.run("SELECT count(*) FROM t").text(0, 0), "1");
}

TEST(PgConnection, RefusesAUrlThatIsNotPostgres) {
  EXPECT_TRUE(is_url("postgres://h/db"));
  EXPECT_FALSE(is_url("sqlite:/tmp/x.db"));
  EXPECT_EQ(status_of([] { Connection c("mysql://h/db"); }), LLMKIT_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace llmkit::pg
