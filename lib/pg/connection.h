// A PostgreSQL connection (libpq) for the trace sink, the trace queries and
// the budget store: SQL with text parameters and COPY, errors as
// llmkit::Error with the server's message (never the password). It
// connects on first use and again after the connection broke (a server
// restart), so a store survives its database going away and coming back.
// Thread safety: one thread at a time per Connection.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct pg_conn;
struct pg_result;

namespace llmkit::pg {

// Whether `url` names a PostgreSQL database: "postgresql://" or "postgres://".
bool is_url(std::string_view url);

class Rows {
 public:
  int count() const;
  int columns() const;
  bool is_null(int row, int column) const;
  std::string_view text(int row, int column) const;  // "" when null

 private:
  friend class Connection;
  struct Free {
    void operator()(pg_result* r) const noexcept;
  };
  explicit Rows(pg_result* r) : result_(r) {}
  std::unique_ptr<pg_result, Free> result_;
};

class Connection {
 public:
  // `url`: a libpq connection URI (postgresql://user@host:port/db?...).
  // Nothing is opened yet.
  explicit Connection(std::string url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` ($1, $2, ... for `params`; nullopt is NULL) and returns its
  // rows (the last statement's: without params, `sql` may hold several). UNAVAILABLE when the
  // server cannot be reached or the connection broke (the next call connects again);
  // INVALID_ARGUMENT with the server's message when the statement fails.
  Rows run(std::string_view sql, std::span<const std::optional<std::string_view>> params = {});
  // COPY ... FROM STDIN with `data` in COPY's text format, in one go.
  void copy_in(std::string_view copy_sql, std::string_view data);

  // host:port/database, for messages: no user or password.
  const std::string& where() const { return where_; }

 private:
  pg_conn* connected();
  [[noreturn]] void failed(std::string_view what);

  std::string url_;
  std::string where_;
  struct Free {
    void operator()(pg_conn* c) const noexcept;
  };
  std::unique_ptr<pg_conn, Free> conn_;
};

}  // namespace llmkit::pg
