// What the provider-call benchmarks share: a local nginx serving a recorded
// Chat Completions body (keep-alive), and the process's CPU per request.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>

#include "support/fixture.h"
#include "support/nginx_server.h"

namespace llmkit::bench {

inline test::NginxServer& nginx() {
  static test::NginxServer server(test::fixture("openai/chat_completion_text.json"));
  return server;
}

inline double cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// Process CPU per request (all threads, the loop's too), over every
// thread's requests: the counter "cpu_us_per_req".
class CpuCounter {
 public:
  explicit CpuCounter(benchmark::State& state) : state_(state), start_(cpu_us()) {}
  ~CpuCounter() {
    if (state_.thread_index() != 0) return;
    const double requests = static_cast<double>(state_.iterations()) * state_.threads();
    state_.counters["cpu_us_per_req"] = (cpu_us() - start_) / std::max(1.0, requests);
  }
  CpuCounter(const CpuCounter&) = delete;
  CpuCounter& operator=(const CpuCounter&) = delete;

 private:
  benchmark::State& state_;
  double start_;
};

}  // namespace llmkit::bench
