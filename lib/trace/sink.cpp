#include "trace/sink.h"

namespace llmkit::trace {

Unique<Sink> open_sink(const Target& target) {
  switch (target.kind) {
    case Target::Kind::kPostgres:
      return postgres_sink(target.where);
    case Target::Kind::kJsonl:
      return jsonl_sink(target.where);
    case Target::Kind::kSqlite:
      break;
  }
  return sqlite_sink(target.where);
}

}  // namespace llmkit::trace
