// The calls of make bench's pipeline/full and pipeline/full/baseline, and the
// same request through a plain libcurl easy handle (http/chat/baseline), for
// callgrind (bench/pipeline_instructions.sh): the instructions a call runs
// do not vary with the machine's load as its time does.
// "paired" times the CPU the pipeline's stages add: a bare call and a full
// one in turn, each timed by its thread's CPU clock (a blocking call runs
// on its caller's thread, transfer and all), so that both of a pair see
// the same machine, and the mean of the differences with its 95%
// confidence interval; given a list of stages, a client with those alone.
// "full" takes the same list. Usage: llmkit_pipeline_calls bare|curl N,
// or full|paired N [STAGES]
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "pipeline_clients.h"

namespace {

// What callgrind collects: everything under it, on this thread.
__attribute__((noinline)) void measured_calls(llmkit_client* client, const char* model, int n) {
  llmkit::bench::PipelineCall call(model);
  for (int i = 0; i < n; ++i) {
    if (call.once(client, true) != LLMKIT_OK) {
      std::fprintf(stderr, "llmkit_pipeline_calls: %s\n", llmkit_last_error());
      std::exit(1);
    }
  }
}

// The request the bare client sends, by plain libcurl.
__attribute__((noinline)) void measured_calls_curl(llmkit::bench::RawCurlCall& call, int n) {
  for (int i = 0; i < n; ++i) {
    if (!call.once()) {
      std::fprintf(stderr, "llmkit_pipeline_calls: the libcurl request failed\n");
      std::exit(1);
    }
  }
}

std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The CPU time of one call, in µs.
double cpu_us(llmkit::bench::PipelineCall& call, llmkit_client* client) {
  const std::int64_t start = thread_cpu_ns();
  if (call.once(client, true) != LLMKIT_OK) {
    std::fprintf(stderr, "llmkit_pipeline_calls: %s\n", llmkit_last_error());
    std::exit(1);
  }
  return static_cast<double>(thread_cpu_ns() - start) / 1000.0;
}

int paired(int n, const llmkit::bench::Stages& stages) {
  llmkit_client* bare = llmkit::bench::new_client();
  llmkit_client* full = llmkit::bench::full_client(stages);
  llmkit::bench::PipelineCall bare_call("gpt-4o-mini");
  llmkit::bench::PipelineCall full_call(stages.model());
  for (int i = 0; i < 200; ++i) {  // connections, tokenizer tables, caches
    cpu_us(bare_call, bare);
    cpu_us(full_call, full);
  }
  std::vector<double> added;
  added.reserve(static_cast<std::size_t>(n));
  double bare_sum = 0;
  for (int i = 0; i < n; ++i) {
    // Each order half the time: what one call leaves (a warm cache line, a
    // pending ACK) would otherwise favour the other.
    double b = 0;
    double f = 0;
    if (i % 2 == 0) {
      b = cpu_us(bare_call, bare);
      f = cpu_us(full_call, full);
    } else {
      f = cpu_us(full_call, full);
      b = cpu_us(bare_call, bare);
    }
    added.push_back(f - b);
    bare_sum += b;
  }
  double mean = 0;
  for (const double d : added) mean += d;
  mean /= n;
  double var = 0;
  for (const double d : added) var += (d - mean) * (d - mean);
  const double ci = 1.96 * std::sqrt(var / (n - 1) / n);
  std::nth_element(added.begin(), added.begin() + n / 2, added.end());
  std::printf(
      "pipeline added CPU per call, %d pairs: mean %.2f us (95%% CI +-%.2f), median %.2f us; "
      "bare call %.1f us (target: at most 5 us added)\n",
      n, mean, ci, added[static_cast<std::size_t>(n / 2)], bare_sum / n);
  llmkit_client_free(full);
  llmkit_client_free(bare);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc >= 3 ? argv[1] : "";
  const int n = argc >= 3 ? std::atoi(argv[2]) : 0;
  const bool staged = mode == "full" || mode == "paired";
  if ((mode != "bare" && mode != "curl" && !staged) || n < 2 || argc > (staged ? 4 : 3)) {
    std::fprintf(stderr,
                 "usage: llmkit_pipeline_calls bare|curl N, or full|paired N "
                 "[hooks,cache,limit,router] (N >= 2)\n");
    return 2;
  }
  const auto stages = llmkit::bench::Stages::named(argc == 4 ? argv[3] : nullptr);
  if (mode == "paired") return paired(n, stages);
  if (mode == "curl") {
    // What the bare client sends for PipelineCall's request (its seed aside).
    llmkit::bench::RawCurlCall call(
        R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}],"seed":1})");
    for (int i = 0; i < 50; ++i) call.once();  // the connection
    measured_calls_curl(call, n);
    return 0;
  }
  const bool full = mode == "full";
  llmkit_client* client = full ? llmkit::bench::full_client(stages) : llmkit::bench::new_client();
  const char* model = full ? stages.model() : "gpt-4o-mini";
  {
    llmkit::bench::PipelineCall warm(model);  // connections, tokenizer tables
    for (int i = 0; i < 50; ++i) warm.once(client, true);
  }
  measured_calls(client, model, n);
  llmkit_client_free(client);
  return 0;
}
