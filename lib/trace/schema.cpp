#include "trace/schema.h"

namespace llmkit::trace {

// Times are microseconds since the Unix epoch (UTC); booleans are 0 or 1;
// tags a JSON array and metadata a JSON object, as text.
const char* const kSchema = R"(CREATE TABLE IF NOT EXISTS llmkit_traces (
  call_id TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  application TEXT NOT NULL,
  scope TEXT NOT NULL,
  tags TEXT NOT NULL,
  metadata TEXT NOT NULL,
  caller TEXT NOT NULL,
  gen_ai_operation_name TEXT NOT NULL,
  gen_ai_provider_name TEXT NOT NULL,
  gen_ai_request_model TEXT NOT NULL,
  gen_ai_response_model TEXT,
  gen_ai_response_id TEXT,
  deployment TEXT,
  status TEXT NOT NULL,
  error_type TEXT,
  gen_ai_response_finish_reasons TEXT,
  gen_ai_usage_input_tokens BIGINT NOT NULL,
  gen_ai_usage_output_tokens BIGINT NOT NULL,
  gen_ai_usage_cache_read_input_tokens BIGINT NOT NULL,
  gen_ai_usage_cache_creation_input_tokens BIGINT NOT NULL,
  gen_ai_usage_reasoning_output_tokens BIGINT NOT NULL,
  cost_usd DOUBLE PRECISION NOT NULL,
  latency_ms DOUBLE PRECISION NOT NULL,
  ttft_ms DOUBLE PRECISION,
  retries INTEGER NOT NULL,
  fallback INTEGER NOT NULL,
  cache_hit INTEGER NOT NULL,
  gen_ai_input_messages TEXT,
  gen_ai_output_messages TEXT
);
CREATE INDEX IF NOT EXISTS llmkit_traces_time ON llmkit_traces (time_us);
CREATE INDEX IF NOT EXISTS llmkit_traces_application ON llmkit_traces (application, time_us);
CREATE INDEX IF NOT EXISTS llmkit_traces_model ON llmkit_traces (gen_ai_request_model, time_us))";

const char* const kColumns =
    "call_id, time_us, application, scope, tags, metadata, caller, gen_ai_operation_name, "
    "gen_ai_provider_name, gen_ai_request_model, gen_ai_response_model, gen_ai_response_id, "
    "deployment, status, error_type, gen_ai_response_finish_reasons, gen_ai_usage_input_tokens, "
    "gen_ai_usage_output_tokens, gen_ai_usage_cache_read_input_tokens, "
    "gen_ai_usage_cache_creation_input_tokens, gen_ai_usage_reasoning_output_tokens, cost_usd, "
    "latency_ms, ttft_ms, retries, fallback, cache_hit, gen_ai_input_messages, "
    "gen_ai_output_messages";

}  // namespace llmkit::trace
