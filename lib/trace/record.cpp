#include "trace/record.h"

#include <charconv>

namespace llmkit::trace {
namespace {

Value text(std::string_view s) {
  return {Value::Kind::kText, s, 0, 0};
}
Value json(std::string_view s) {
  return {Value::Kind::kJson, s, 0, 0};
}
Value integer(std::int64_t i) {
  return {Value::Kind::kInt, {}, i, 0};
}
Value real(double d) {
  return {Value::Kind::kReal, {}, 0, d};
}
template <class T>
void append_chars(String& out, T v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

template <class T, class F>
Value maybe(const std::optional<T>& v, F make) {
  return v ? make(*v) : Value{};
}

}  // namespace

const std::array<Field, kFieldCount> kFields = {{
    {"call_id", "llmkit.call_id"},
    {"time_us", "llmkit.time_us"},
    {"application", "llmkit.application"},
    {"scope", "llmkit.scope"},
    {"tags", "llmkit.tags"},
    {"metadata", "llmkit.metadata"},
    {"caller", "llmkit.caller"},
    {"gen_ai_operation_name", "gen_ai.operation.name"},
    {"gen_ai_provider_name", "gen_ai.provider.name"},
    {"gen_ai_request_model", "gen_ai.request.model"},
    {"gen_ai_response_model", "gen_ai.response.model"},
    {"gen_ai_response_id", "gen_ai.response.id"},
    {"deployment", "llmkit.deployment"},
    {"status", "llmkit.status"},
    {"error_type", "error.type"},
    {"gen_ai_response_finish_reasons", "gen_ai.response.finish_reasons"},
    {"gen_ai_usage_input_tokens", "gen_ai.usage.input_tokens"},
    {"gen_ai_usage_output_tokens", "gen_ai.usage.output_tokens"},
    {"gen_ai_usage_cache_read_input_tokens", "gen_ai.usage.cache_read.input_tokens"},
    {"gen_ai_usage_cache_creation_input_tokens", "gen_ai.usage.cache_creation.input_tokens"},
    {"gen_ai_usage_reasoning_output_tokens", "gen_ai.usage.reasoning.output_tokens"},
    {"cost_usd", "llmkit.cost_usd"},
    {"latency_ms", "llmkit.latency_ms"},
    {"ttft_ms", "llmkit.ttft_ms"},
    {"retries", "llmkit.retries"},
    {"fallback", "llmkit.fallback"},
    {"cache_hit", "llmkit.cache_hit"},
    {"gen_ai_input_messages", "gen_ai.input.messages"},
    {"gen_ai_output_messages", "gen_ai.output.messages"},
}};

std::array<Value, kFieldCount> values_of(const Record& r) {
  const auto str = [](const String& s) { return text(s); };
  const auto js = [](const String& s) { return json(s); };
  return {{
      text(r.call_id),
      integer(r.time_us),
      text(r.application),
      text(r.scope),
      json(r.tags),
      json(r.metadata),
      text(r.caller),
      text(r.operation),
      text(r.provider),
      text(r.request_model),
      maybe(r.response_model, str),
      maybe(r.response_id, str),
      maybe(r.deployment, str),
      text(r.status),
      maybe(r.error_type, str),
      maybe(r.finish_reasons, js),
      integer(r.input_tokens),
      integer(r.output_tokens),
      integer(r.cache_read_tokens),
      integer(r.cache_creation_tokens),
      integer(r.reasoning_tokens),
      real(r.cost_usd),
      real(r.latency_ms),
      maybe(r.ttft_ms, real),
      integer(r.retries),
      integer(r.fallback ? 1 : 0),
      integer(r.cache_hit ? 1 : 0),
      maybe(r.input_messages, js),
      maybe(r.output_messages, js),
  }};
}

void append_number(String& out, std::int64_t v) {
  append_chars(out, v);
}

void append_number(String& out, double v) {
  append_chars(out, v);
}

}  // namespace llmkit::trace
