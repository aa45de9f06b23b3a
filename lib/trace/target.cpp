#include "trace/target.h"

#include "core/error.h"
#include "pg/connection.h"

namespace llmkit::trace {

Target parse_target(std::string_view text) {
  Target t;
  if (pg::is_url(text)) {
    t.kind = Target::Kind::kPostgres;
  } else if (text.starts_with("jsonl:")) {
    t.kind = Target::Kind::kJsonl;
    text.remove_prefix(6);
  } else if (text.starts_with("sqlite:")) {
    text.remove_prefix(7);
  }
  if (text.empty()) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "a trace target is a SQLite file's path, \"jsonl:PATH\" or a postgresql:// URL; it is "
         "empty");
  }
  t.where = std::string(text);
  return t;
}

}  // namespace llmkit::trace
