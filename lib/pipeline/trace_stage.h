// A call's trace record (docs/traces.md): the client's Tracer holds where
// records go and what goes in them; each call's TraceStage remembers what
// the call began with and, at its end, hands the record to the writer.
#pragma once

#include <cstdint>
#include <string_view>

#include "client/client.h"
#include "core/alloc.h"
#include "hooks/event.h"
#include "options/options.h"
#include "pipeline/router.h"
#include "trace/writer.h"

namespace llmkit::pipeline {

struct Tracer {
  // From the client's options: null without "trace" (tracing off, at no
  // cost to calls). INVALID_ARGUMENT for a bad "trace.*" value or a file
  // that cannot be opened.
  static Unique<Tracer> from(const Options& options);

  Tracer(Unique<trace::Sink> sink, const trace::WriterSettings& settings)
      : writer(std::move(sink), settings) {}

  String application;  // the "application" option
  String scope;        // the "scopes" option
  bool content = false;
  trace::Writer writer;
};

class TraceStage {
 public:
  // `request` and `router` must outlive end(); null `tracer`: no record.
  void begin(Tracer* tracer, const Router& router, const providers::ChatRequest& request,
             const Options* call_options);
  bool on() const { return tracer_ != nullptr; }

  // Queues the call's record: `event` for its tags, metadata and (after
  // before hooks) its request; `plan` and `tries` for retries and
  // fallback; `start_us` on now_us()'s clock.
  void end(const hooks::Event& event, const Router::Plan& plan, int tries, std::int64_t start_us,
           const client::Result& result) noexcept;

 private:
  trace::Record record(const hooks::Event& event, const Router::Plan& plan, int tries,
                       std::int64_t start_us, const client::Result& result) const;

  Tracer* tracer_ = nullptr;
  const Router* router_ = nullptr;
  const providers::ChatRequest* request_ = nullptr;
  String caller_;
};

}  // namespace llmkit::pipeline
