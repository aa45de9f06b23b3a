// Spend in PostgreSQL: a row per budget and period in llmkit_budget_spend,
// made on first use and added to with INSERT ... ON CONFLICT DO UPDATE, one
// atomic statement for all the keys of a call. Rows of past periods are
// deleted when a store first connects.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "budget/store.h"
#include "core/error.h"
#include "pg/connection.h"
#include "trace/cost_query.h"

namespace llmkit::budget {

namespace {

// Two processes creating the table at once would collide in PostgreSQL's
// catalog: a transaction-scoped advisory lock puts them in turn.
constexpr const char* kSchema =
    "BEGIN; SELECT pg_advisory_xact_lock(7461626); "
    "CREATE TABLE IF NOT EXISTS llmkit_budget_spend (key TEXT PRIMARY KEY, "
    "usd DOUBLE PRECISION NOT NULL, expires_us BIGINT NOT NULL); COMMIT";

class PgStore final : public Store {
 public:
  explicit PgStore(std::string_view url) : db_(std::string(url)) {}

  std::vector<double> spent(std::span<const Entry> keys) override {
    std::string sql = "SELECT key, usd FROM llmkit_budget_spend WHERE key IN (";
    std::vector<std::optional<std::string_view>> params;
    for (const Entry& e : keys) {
      params.emplace_back(e.key);
      sql += (params.size() > 1 ? ", $" : "$") + std::to_string(params.size());
    }
    sql += ")";
    std::lock_guard<std::mutex> lock(mutex_);
    ready();
    const pg::Rows rows = db_.run(sql, params);
    std::vector<double> out(keys.size(), 0.0);
    for (int r = 0; r < rows.count(); ++r) {
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (rows.text(r, 0) == keys[i].key) {
          out[i] = std::strtod(std::string(rows.text(r, 1)).c_str(), nullptr);
        }
      }
    }
    return out;
  }

  void add(std::span<const Entry> keys, double usd) override {
    char exact[32];
    std::snprintf(exact, sizeof exact, "%.17g", usd);
    std::vector<std::string> expiries;
    expiries.reserve(keys.size());
    std::vector<std::optional<std::string_view>> params = {std::string_view(exact)};
    std::string sql = "INSERT INTO llmkit_budget_spend (key, usd, expires_us) VALUES ";
    for (const Entry& e : keys) {
      expiries.push_back(std::to_string(e.expires_us));
      params.emplace_back(e.key);
      params.emplace_back(expiries.back());
      sql += (params.size() > 3 ? ", ($" : "($") + std::to_string(params.size() - 1) +
             ", $1::DOUBLE PRECISION, $" + std::to_string(params.size()) + "::BIGINT)";
    }
    sql += " ON CONFLICT (key) DO UPDATE SET usd = llmkit_budget_spend.usd + EXCLUDED.usd";
    std::lock_guard<std::mutex> lock(mutex_);
    ready();
    db_.run(sql, params);
  }

  std::string where() const override { return "PostgreSQL at " + db_.where(); }

 private:
  void ready() {
    if (ready_) return;
    try {
      db_.run(kSchema);
    } catch (const Error& e) {
      // A statement refused leaves the transaction open and aborted.
      if (e.status() != LLMKIT_UNAVAILABLE) {
        try {
          db_.run("ROLLBACK");
        } catch (const Error&) {  // the first error is the one to report
        }
      }
      throw;
    }
    const std::string now = std::to_string(trace::wall_clock_us());
    const std::optional<std::string_view> params[] = {std::string_view(now)};
    db_.run("DELETE FROM llmkit_budget_spend WHERE expires_us < $1::BIGINT", params);
    ready_ = true;
  }

  std::mutex mutex_;
  pg::Connection db_;
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<Store> make_pg_store(std::string_view url) {
  return std::make_unique<PgStore>(url);
}

}  // namespace llmkit::budget
