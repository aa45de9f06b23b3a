// A call's trace record (docs/traces.md): the client's Tracer holds where
// records go and what goes in them; each call's TraceStage remembers what
// the call began with and, at its end, hands the record to the writer.
#pragma once

#include <cstdint>
#include <string_view>

#include "client/client.h"
#include "core/alloc.h"
#include "hooks/event.h"
#include "metrics/sample.h"
#include "options/options.h"
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
  // Null `tracer`: no record.
  void begin(Tracer* tracer, const Options* call_options);
  bool on() const { return tracer_ != nullptr; }

  // Queues the call's record: `sample` for its figures (what the metrics
  // count too), `event` for its tags and metadata, `request` for its
  // content (the one sent, after before hooks).
  void end(const metrics::Sample& sample, const hooks::Event& event,
           const providers::ChatRequest& request, const client::Result& result) noexcept;

 private:
  trace::Record record(const metrics::Sample& sample, const hooks::Event& event,
                       const providers::ChatRequest& request, const client::Result& result) const;

  Tracer* tracer_ = nullptr;
  String caller_;
};

}  // namespace llmkit::pipeline
