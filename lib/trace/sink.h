// Where a Writer's batches of trace records go: a SQLite file, a
// PostgreSQL database or a JSON Lines file (target.h names one).
// Thread safety: one thread at a time per Sink (the Writer's own).
#pragma once

#include <span>
#include <string_view>

#include "core/alloc.h"
#include "trace/record.h"
#include "trace/target.h"

namespace llmkit::trace {

class Sink {
 public:
  virtual ~Sink() = default;
  // Writes `batch`, all or nothing where the store allows it (one
  // transaction, one COPY). Throws llmkit::Error: UNAVAILABLE while the
  // database cannot be reached, another status for other failures; either
  // way the same batch may be written again later.
  virtual void write(std::span<const Record> batch) = 0;
};

// SQLite: the file is opened (and made, with the table) now; WAL,
// synchronous=NORMAL, one transaction per batch. INVALID_ARGUMENT when it
// cannot be opened.
Unique<Sink> sqlite_sink(std::string_view path);
// PostgreSQL: connects, and makes the table, on the first batch; one COPY
// per batch.
Unique<Sink> postgres_sink(std::string_view url);
// JSON Lines: one object per record, appended to the file (opened now;
// INVALID_ARGUMENT when it cannot be), keys named after the OpenTelemetry
// attributes (record.h's kFields), null columns left out.
Unique<Sink> jsonl_sink(std::string_view path);

Unique<Sink> open_sink(const Target& target);

}  // namespace llmkit::trace
