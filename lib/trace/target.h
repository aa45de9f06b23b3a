// Where traces go, and where `llmkit costs` reads them from: one text, as
// the "trace" client option and the CLI's --db write it.
#pragma once

#include <string>
#include <string_view>

namespace llmkit::trace {

struct Target {
  enum class Kind { kSqlite, kPostgres, kJsonl };
  Kind kind = Kind::kSqlite;
  // The SQLite file's or JSON Lines file's path, or the PostgreSQL URL.
  std::string where;
};

// "postgresql://..." or "postgres://..." (a libpq URI): PostgreSQL;
// "jsonl:PATH": a JSON Lines file; "sqlite:PATH" or any other text: a
// SQLite file at that path. INVALID_ARGUMENT for an empty path.
Target parse_target(std::string_view text);

}  // namespace llmkit::trace
