#include "pipeline/trace_stage.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "pipeline/trace_content.h"
#include "trace/target.h"

namespace llmkit::pipeline {
namespace {

// 128 random bits as 32 hex digits: unique across processes and clients
// without coordination.
String call_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  String id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = random();
    for (int i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kHex[bits & 0xF];
  }
  return id;
}

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

String tags_json(const hooks::Tags& tags) {
  String out = make_string("[");
  for (const String& t : tags) {
    if (out.size() > 1) out.push_back(',');
    json::append_string(out, t);
  }
  out.push_back(']');
  return out;
}

String metadata_json(const hooks::Metadata& metadata) {
  String out = make_string("{");
  for (const auto& [key, value] : metadata) {
    if (out.size() > 1) out.push_back(',');
    json::append_string(out, key);
    out.push_back(':');
    json::append_string(out, value);
  }
  out.push_back('}');
  return out;
}

}  // namespace

Unique<Tracer> Tracer::from(const Options& options) {
  const String* where = options.find("trace");
  if (where == nullptr) return nullptr;
  trace::WriterSettings settings;
  settings.queue = static_cast<std::size_t>(options.get_int("trace.queue", 10000, 1, 1 << 24));
  const std::string_view on_full = options.get_string("trace.on_full", "drop");
  if (on_full != "drop" && on_full != "block") {
    fail(LLMKIT_INVALID_ARGUMENT,
         R"("trace.on_full" is "drop" or "block", not ")" + std::string(on_full) + "\"");
  }
  settings.block = on_full == "block";
  settings.close_timeout_ms = options.get_int("trace.close_timeout_ms", settings.close_timeout_ms,
                                              0, std::int64_t{1} << 40);
  const bool content = options.get_bool("trace.content").value_or(false);
  Unique<Tracer> t(create<Tracer>(trace::open_sink(trace::parse_target(*where)), settings));
  t->application = make_string(options.get_string("application", ""));
  t->scope = make_string(options.get_string("scopes", ""));
  t->content = content;
  return t;
}

void TraceStage::begin(Tracer* tracer, const Options* call_options) {
  tracer_ = tracer;
  if (tracer == nullptr) return;
  if (call_options != nullptr) caller_ = make_string(call_options->get_string("caller", ""));
}

void TraceStage::end(const metrics::Sample& sample, const hooks::Event& event,
                     const providers::ChatRequest& request, const client::Result& result) noexcept {
  if (tracer_ == nullptr) return;
  try {
    tracer_->writer.push(record(sample, event, request, result));
  } catch (...) {  // NOLINT(bugprone-empty-catch): no memory for the record: the call goes on
  }
  tracer_ = nullptr;  // once
}

trace::Record TraceStage::record(const metrics::Sample& sample, const hooks::Event& event,
                                 const providers::ChatRequest& request,
                                 const client::Result& result) const {
  const providers::Response* r = result.response.get();
  trace::Record t;
  t.call_id = call_id();
  t.time_us = wall_us() - sample.latency_us;
  t.application = tracer_->application;
  t.scope = tracer_->scope;
  t.tags = tags_json(event.tags);
  t.metadata = metadata_json(event.metadata);
  t.caller = caller_;
  t.operation = make_string(sample.operation);
  t.request_model = make_string(sample.model);
  t.provider = make_string(sample.provider);
  t.latency_ms = static_cast<double>(sample.latency_us) / 1000.0;
  t.retries = sample.retries;
  t.fallback = sample.fallback;
  if (sample.status == LLMKIT_OK) {
    t.status = make_string("ok");
  } else {
    t.status = make_string(llmkit_status_str(sample.status));
    t.error_type = r != nullptr && !r->detail.empty() ? r->detail : t.status;
  }
  // An embeddings call's inputs are not stored: they are no conversation.
  if (tracer_->content && sample.operation == "chat") t.input_messages = input_messages(request);
  // The figures: 0 without an answer; an embeddings call has them but no
  // Response.
  if (!sample.deployment.empty()) t.deployment = make_string(sample.deployment);
  t.input_tokens = sample.input_tokens;
  t.output_tokens = sample.output_tokens;
  t.cache_read_tokens = sample.cache_read_tokens;
  t.cache_creation_tokens = sample.cache_creation_tokens;
  t.reasoning_tokens = sample.reasoning_tokens;
  t.cost_usd = sample.cost_usd;
  if (sample.ttft_us >= 0) t.ttft_ms = static_cast<double>(sample.ttft_us) / 1000.0;
  if (r == nullptr) return t;
  if (!r->model.empty()) t.response_model = r->model;
  if (!r->id.empty()) t.response_id = r->id;
  if (r->finish != LLMKIT_FINISH_NONE) {
    t.finish_reasons.emplace("[");
    json::append_string(*t.finish_reasons, providers::finish_name(r->finish));
    t.finish_reasons->push_back(']');
  }
  t.cache_hit = r->cached;
  if (tracer_->content && r->status == LLMKIT_OK) t.output_messages = output_messages(*r);
  return t;
}

}  // namespace llmkit::pipeline
