// One call as the traces table keeps it (schema.h): what a sink writes,
// with each column's OpenTelemetry GenAI attribute (or llmkit's own name)
// for sinks that name them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/alloc.h"

namespace llmkit::trace {

struct Record {
  String call_id;
  std::int64_t time_us = 0;  // wall clock at the call's start, since the Unix epoch (UTC)
  String application;
  String scope;     // the client's "scopes", comma-separated
  String tags;      // a JSON array of strings
  String metadata;  // a JSON object of strings
  String caller;
  String operation = make_string("chat");
  String provider;
  String request_model;
  std::optional<String> response_model;
  std::optional<String> response_id;
  std::optional<String> deployment;
  String status;  // "ok" or the status's name ("RATE_LIMITED")
  std::optional<String> error_type;
  std::optional<String> finish_reasons;  // a JSON array of strings
  std::int64_t input_tokens = 0;         // cached and cache writes included
  std::int64_t output_tokens = 0;        // reasoning included
  std::int64_t cache_read_tokens = 0;
  std::int64_t cache_creation_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  double cost_usd = 0;
  double latency_ms = 0;
  std::optional<double> ttft_ms;
  int retries = 0;
  bool fallback = false;
  bool cache_hit = false;
  std::optional<String> input_messages;  // JSON, only with "trace.content"
  std::optional<String> output_messages;
};

// One column's value, borrowed from a Record.
struct Value {
  enum class Kind : std::uint8_t { kNull, kText, kJson, kInt, kReal };
  Kind kind = Kind::kNull;
  std::string_view text;  // kText; kJson: JSON text, a TEXT column in databases
  std::int64_t integer = 0;
  double real = 0;
};

struct Field {
  std::string_view column;     // as in kColumns
  std::string_view attribute;  // the OpenTelemetry name, or "llmkit.<column>"
};

constexpr std::size_t kFieldCount = 29;

// The columns in the table's order (kColumns), each with its attribute.
extern const std::array<Field, kFieldCount> kFields;

// The values of `r` in kFields' order.
std::array<Value, kFieldCount> values_of(const Record& r);

// Appends a number's shortest text that reads back exactly.
void append_number(String& out, std::int64_t v);
void append_number(String& out, double v);

}  // namespace llmkit::trace
