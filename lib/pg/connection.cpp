#include "pg/connection.h"

#include <libpq-fe.h>

#include <vector>

#include "core/error.h"

namespace llmkit::pg {

namespace {

// host:port/database of a URI, without its user and password.
std::string where_of(std::string_view url) {
  std::string_view rest = url.substr(url.find("://") + 3);
  if (const auto at = rest.rfind('@', rest.find('/')); at != std::string_view::npos) {
    rest.remove_prefix(at + 1);
  }
  if (const auto q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
  return std::string(rest);
}

std::string trimmed(const char* message) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

}  // namespace

bool is_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

void Rows::Free::operator()(pg_result* r) const noexcept {
  PQclear(r);
}
int Rows::count() const {
  return PQntuples(result_.get());
}
int Rows::columns() const {
  return PQnfields(result_.get());
}
bool Rows::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}
std::string_view Rows::text(int row, int column) const {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

void Connection::Free::operator()(pg_conn* c) const noexcept {
  PQfinish(c);
}

Connection::Connection(std::string url) : url_(std::move(url)) {
  if (!is_url(url_)) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "a PostgreSQL URL starts with postgresql:// or postgres://, not \"" +
             std::string(url_.substr(0, url_.find("://"))) + "\"");
  }
  where_ = where_of(url_);
}

Connection::~Connection() = default;

void Connection::failed(std::string_view what) {
  std::string message = "PostgreSQL at " + where_ + ": " + std::string(what) + ": " +
                        trimmed(conn_ ? PQerrorMessage(conn_.get()) : "");
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    conn_.reset();  // the next call connects again
    fail(LLMKIT_UNAVAILABLE, message);
  }
  fail(LLMKIT_INVALID_ARGUMENT, message);
}

pg_conn* Connection::connected() {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return conn_.get();
  conn_.reset(PQconnectdb(url_.c_str()));
  if (!conn_) fail(LLMKIT_OUT_OF_MEMORY, "PostgreSQL: no memory for a connection");
  if (PQstatus(conn_.get()) != CONNECTION_OK) failed("cannot connect");
  // Notices ("relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(
      conn_.get(), [](void*, const char*) {}, nullptr);
  return conn_.get();
}

Rows Connection::run(std::string_view sql,
                     std::span<const std::optional<std::string_view>> params) {
  pg_conn* c = connected();
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<std::string> owned;  // libpq's text parameters end with '\0'
  owned.reserve(params.size());
  for (const auto& p : params) {
    if (!p) {
      values.push_back(nullptr);
      lengths.push_back(0);
      continue;
    }
    owned.emplace_back(*p);
    values.push_back(owned.back().c_str());
    lengths.push_back(static_cast<int>(p->size()));
  }
  const std::string text(sql);
  // Without parameters, the simple protocol: it takes several statements.
  Rows rows(params.empty() ? PQexec(c, text.c_str())
                           : PQexecParams(c, text.c_str(), static_cast<int>(params.size()), nullptr,
                                          values.data(), lengths.data(), nullptr, 0));
  const ExecStatusType st = PQresultStatus(rows.result_.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) failed("a statement failed");
  return rows;
}

void Connection::copy_in(std::string_view copy_sql, std::string_view data) {
  pg_conn* c = connected();
  const std::string text(copy_sql);
  Rows start(PQexec(c, text.c_str()));
  if (PQresultStatus(start.result_.get()) != PGRES_COPY_IN) failed("COPY did not start");
  if (PQputCopyData(c, data.data(), static_cast<int>(data.size())) != 1 ||
      PQputCopyEnd(c, nullptr) != 1) {
    failed("COPY was cut off");
  }
  Rows end(PQgetResult(c));
  const bool ok = PQresultStatus(end.result_.get()) == PGRES_COMMAND_OK;
  // Drain to the end, so the connection is ready for the next statement.
  while (pg_result* more = PQgetResult(c)) PQclear(more);
  if (!ok) failed("COPY failed");
}

}  // namespace llmkit::pg
