// The embedded default sink: a SQLite file in WAL mode, so that readers
// (`llmkit costs`) never block the writer, one transaction per batch.
#include <sqlite3.h>

#include <string>

#include "core/error.h"
#include "trace/schema.h"
#include "trace/sink.h"

namespace llmkit::trace {
namespace {

struct CloseDb {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct Finalize {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

class SqliteSink final : public Sink {
 public:
  explicit SqliteSink(std::string_view path) : path_(path) {
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path_.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK) failed(LLMKIT_INVALID_ARGUMENT, "cannot open it");
    // Readers of the file wait for a batch's commit rather than fail.
    sqlite3_busy_timeout(db_.get(), 5000);
    exec("PRAGMA journal_mode=WAL", LLMKIT_INVALID_ARGUMENT);
    exec("PRAGMA synchronous=NORMAL", LLMKIT_INVALID_ARGUMENT);
    exec(kSchema, LLMKIT_INVALID_ARGUMENT);
    one_.reset(prepare(1));
    many_.reset(prepare(kRowsPerInsert));
  }

  void write(std::span<const Record> batch) override {
    exec("BEGIN", LLMKIT_UNAVAILABLE);
    std::size_t i = 0;
    for (; i + kRowsPerInsert <= batch.size(); i += kRowsPerInsert) {
      insert(many_.get(), batch.subspan(i, kRowsPerInsert));
    }
    for (; i < batch.size(); ++i) insert(one_.get(), batch.subspan(i, 1));
    if (sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) rolled_back();
  }

 private:
  // Rows per INSERT statement in a big batch: one statement's run per 64
  // rows rather than per row (bench/trace_bench.cpp, "trace/sqlite").
  static constexpr std::size_t kRowsPerInsert = 64;

  sqlite3_stmt* prepare(std::size_t rows) {
    std::string row = "(?";
    for (std::size_t i = 1; i < kFieldCount; ++i) row += ",?";
    row += ")";
    std::string sql = "INSERT INTO llmkit_traces (" + std::string(kColumns) + ") VALUES " + row;
    for (std::size_t i = 1; i < rows; ++i) sql += "," + row;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      failed(LLMKIT_INTERNAL, "cannot prepare the INSERT");
    }
    return s;
  }

  // `s` has a row of parameters for each of `rows`.
  void insert(sqlite3_stmt* s, std::span<const Record> rows) {
    int at = 1;
    for (const Record& r : rows) {
      for (const Value& v : values_of(r)) bind(s, at++, v);
    }
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) rolled_back();
  }

  [[noreturn]] void rolled_back() {
    const std::string why = sqlite3_errmsg(db_.get());
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    fail(LLMKIT_UNAVAILABLE, "SQLite trace file " + path_ + ": " + why);
  }

  static void bind(sqlite3_stmt* s, int i, const Value& v) {
    switch (v.kind) {
      case Value::Kind::kNull:
        sqlite3_bind_null(s, i);
        break;
      case Value::Kind::kText:
      case Value::Kind::kJson:
        // SQLITE_STATIC: the record outlives the step.
        sqlite3_bind_text64(s, i, v.text.data(), v.text.size(), SQLITE_STATIC, SQLITE_UTF8);
        break;
      case Value::Kind::kInt:
        sqlite3_bind_int64(s, i, v.integer);
        break;
      case Value::Kind::kReal:
        sqlite3_bind_double(s, i, v.real);
        break;
    }
  }

  void exec(const char* sql, llmkit_status status) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      failed(status, sql);
    }
  }

  [[noreturn]] void failed(llmkit_status status, std::string_view what) {
    fail(status, "SQLite trace file " + path_ + ": " + std::string(what) + ": " +
                     (db_ ? sqlite3_errmsg(db_.get()) : "out of memory"));
  }

  std::string path_;
  std::unique_ptr<sqlite3, CloseDb> db_;
  std::unique_ptr<sqlite3_stmt, Finalize> one_;
  std::unique_ptr<sqlite3_stmt, Finalize> many_;
};

}  // namespace

Unique<Sink> sqlite_sink(std::string_view path) {
  return Unique<Sink>(create<SqliteSink>(path));
}

}  // namespace llmkit::trace
