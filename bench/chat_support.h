// What the provider-call benchmarks share: a local nginx serving a recorded
// Chat Completions body (keep-alive), and the process's CPU per request.
#pragma once

#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <string>

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

// The request llmkit's bare call sends, made with one plain libcurl easy
// handle: the baseline of http_bench.cpp, and of the instruction counts
// (pipeline_calls.cpp). Not thread-safe: one per thread.
class RawCurlCall {
 public:
  explicit RawCurlCall(const char* body) : url_(nginx().url("/v1/chat/completions")) {
    static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;  // once
    (void)initialised;
    easy_ = curl_easy_init();
    headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Authorization: Bearer sk-bench");
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(easy_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &RawCurlCall::collect);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &answer_);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    // llmkit offers every encoding curl decodes; so does the baseline, for
    // the same request bytes (the offer alone costs curl 8k instructions).
    curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING, "");
  }
  ~RawCurlCall() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(easy_);
  }
  RawCurlCall(const RawCurlCall&) = delete;
  RawCurlCall& operator=(const RawCurlCall&) = delete;

  // One request; false unless it was answered 200.
  bool once() {
    answer_.clear();
    long status = 0;
    return curl_easy_perform(easy_) == CURLE_OK &&
           curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
  }
  const std::string& answer() const { return answer_; }

 private:
  static size_t collect(char* p, size_t, size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, n);
    return n;
  }

  std::string url_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string answer_;
};

}  // namespace llmkit::bench
