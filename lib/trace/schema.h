// The traces table, the same in SQLite and PostgreSQL (the SQL below is
// valid in both). Each column that has an OpenTelemetry GenAI attribute is
// named after it with '.' as '_' ("gen_ai.request.model" is
// gen_ai_request_model); docs/traces.md has the table with each name.
#pragma once

namespace llmkit::trace {

// CREATE TABLE and CREATE INDEX statements, each IF NOT EXISTS, separated by
// ';': run on first use by every writer and reader.
extern const char* const kSchema;

// The columns in the order of the table, comma-separated: for INSERT and
// COPY statements.
extern const char* const kColumns;

}  // namespace llmkit::trace
