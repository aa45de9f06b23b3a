// Trace records: "trace/sqlite" and "trace/postgres" push records from two
// threads into a Writer ("trace.on_full" "block", so that the pushes go no
// faster than the sink writes) and report "traces_per_s", the records
// written per second with the final flush included. Targets: >= 100,000/s
// into SQLite, >= 50,000/s into PostgreSQL (a server started here, on a
// free loopback port). "trace/pipeline" is a call through a client that
// traces into SQLite, against the same client without "trace"
// ("/baseline"): the added CPU per call (cpu_us_per_req) is what tracing
// costs a call. Measured numbers: docs/traces.md.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "chat_support.h"
#include "llmkit.h"
#include "pipeline_clients.h"
#include "support/postgres_server.h"
#include "support/trace_record.h"
#include "trace/writer.h"

namespace {

using llmkit::bench::must;
using llmkit::bench::nginx;

std::string temp_db(const char* name) {
  std::string path = "/tmp/llmkit-bench-" + std::to_string(getpid()) + "-" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

struct Run {
  std::unique_ptr<llmkit::trace::Writer> writer;
  std::atomic<std::int64_t> start_ns{0};
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void push_records(benchmark::State& state, Run& run) {
  const llmkit::trace::Record record = llmkit::test::sample_record();
  std::int64_t expected = 0;
  run.start_ns.compare_exchange_strong(expected, now_ns());
  for (auto _ : state) run.writer->push(llmkit::trace::Record(record));
  if (state.thread_index() != 0) return;
  // Thread 0 may finish first: the other's records are counted once it
  // has pushed them all, and the flush waits for every one.
  const std::int64_t before = run.writer->stats().written;
  if (!run.writer->flush(600'000)) {
    state.SkipWithError("the flush timed out");
    return;
  }
  const llmkit::trace::WriterStats s = run.writer->stats();
  if (s.dropped != 0 || s.failed_writes != 0) state.SkipWithError("records lost or refused");
  const double seconds = static_cast<double>(now_ns() - run.start_ns.exchange(0)) / 1e9;
  state.counters["traces_per_s"] =
      static_cast<double>(state.iterations() * state.threads()) / seconds;
  state.counters["written"] = static_cast<double>(s.written - before);
}

std::unique_ptr<llmkit::trace::Writer> writer_to(const std::string& target) {
  llmkit::trace::WriterSettings settings;
  settings.block = true;
  return std::make_unique<llmkit::trace::Writer>(
      llmkit::trace::open_sink(llmkit::trace::parse_target(target)), settings);
}

void sqlite(benchmark::State& state) {
  static Run run{writer_to("sqlite:" + temp_db("traces.db")), {}};
  push_records(state, run);
}

llmkit::test::PostgresServer& postgres() {
  static llmkit::test::PostgresServer server;
  return server;
}

void postgres_records(benchmark::State& state) {
  static Run run{writer_to(postgres().url()), {}};
  push_records(state, run);
}

llmkit_client* client(const std::string& trace) {
  llmkit_options* o = nullptr;
  llmkit_options_new(&o);
  llmkit_options_set(o, "provider", "openai");
  llmkit_options_set(o, "base_url", nginx().url("/v1").c_str());
  llmkit_options_set(o, "api_key", "sk-bench");
  llmkit_options_set(o, "application", "bench");
  if (!trace.empty()) llmkit_options_set(o, "trace", trace.c_str());
  llmkit_client* c = nullptr;
  must(llmkit_client_new(o, &c));
  llmkit_options_free(o);
  return c;
}

void calls(benchmark::State& state, llmkit_client* c) {
  llmkit::bench::PipelineCall call("gpt-4o-mini");
  {
    llmkit::bench::CpuCounter cpu(state);
    for (auto _ : state) {
      if (call.once(c, false) != LLMKIT_OK) {
        state.SkipWithError(llmkit_last_error());
        break;
      }
    }
    // The records' writing is part of the cost: the CPU counter runs on.
    must(llmkit_client_flush(c, 60'000));
  }
  state.SetItemsProcessed(state.iterations());
}

void traced(benchmark::State& state) {
  static llmkit_client* c = client(temp_db("calls.db"));
  calls(state, c);
}

void untraced(benchmark::State& state) {
  static llmkit_client* c = client("");
  calls(state, c);
}

BENCHMARK(sqlite)->Name("trace/sqlite")->Threads(2)->UseRealTime()->Iterations(400'000);
BENCHMARK(postgres_records)->Name("trace/postgres")->Threads(2)->UseRealTime()->Iterations(200'000);
BENCHMARK(traced)->Name("trace/pipeline")->UseRealTime()->Repetitions(5);
BENCHMARK(untraced)->Name("trace/pipeline/baseline")->UseRealTime()->Repetitions(5);

}  // namespace
