// Throughput of llmkit's chat call against plain libcurl doing the same
// requests (make bench's http/chat and its baseline), in rounds of two
// short phases: every thread calls through llmkit in one and through its
// own libcurl easy handle in the other, the order swapped each round.
// Each round's ratio compares two phases a few hundred milliseconds apart,
// so the machine's load, which moves http/chat's separate runs by 20% on
// a shared machine, moves both alike. Prints the median ratio of time per
// call (llmkit / libcurl; the target is at most 1.11, 0.9x the requests/s).
// Usage: llmkit_http_race THREADS ROUNDS [PHASE_MS]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "chat_support.h"
#include "llmkit.h"

namespace {

constexpr const char* kBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]})";

enum Phase : int { kLlmkit, kCurl, kStop };

void fail(const char* what) {
  std::fprintf(stderr, "llmkit_http_race: %s\n", what);
  std::exit(1);
}

llmkit_client* new_client() {
  llmkit_options* o = nullptr;
  llmkit_client* c = nullptr;
  if (llmkit_options_new(&o) != LLMKIT_OK || llmkit_options_set(o, "provider", "openai") ||
      llmkit_options_set(o, "base_url", llmkit::bench::nginx().url("/v1").c_str()) ||
      llmkit_options_set(o, "api_key", "sk-bench") || llmkit_client_new(o, &c) != LLMKIT_OK) {
    fail(llmkit_last_error());
  }
  llmkit_options_free(o);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc >= 3 ? std::atoi(argv[1]) : 0;
  const int rounds = argc >= 3 ? std::atoi(argv[2]) : 0;
  const int phase_ms = argc >= 4 ? std::atoi(argv[3]) : 250;
  if (threads < 1 || rounds < 1 || phase_ms < 1 || argc > 4) {
    std::fprintf(stderr, "usage: llmkit_http_race THREADS ROUNDS [PHASE_MS]\n");
    return 2;
  }
  llmkit_client* client = new_client();
  llmkit_request* request = nullptr;
  llmkit_request_new(&request);
  llmkit_request_set(request, "model", "gpt-4o-mini");
  llmkit_request_add_message(request, "user", "Say hello.");

  std::atomic<int> phase{kLlmkit};
  std::atomic<long> done[2] = {0, 0};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&] {
      llmkit::bench::RawCurlCall raw(kBody);
      for (int p; (p = phase.load(std::memory_order_relaxed)) != kStop;) {
        if (p == kLlmkit) {
          llmkit_response* response = nullptr;
          if (llmkit_client_chat(client, request, nullptr, nullptr, nullptr, nullptr, &response) !=
              LLMKIT_OK) {
            fail(llmkit_last_error());
          }
          llmkit_response_free(response);
        } else if (!raw.once()) {
          fail("a libcurl request failed");
        }
        done[p].fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // One phase of `p`: the calls that began in it.
  const auto run = [&](Phase p) {
    const long before = done[p].load();
    phase.store(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(phase_ms));
    return static_cast<double>(done[p].load() - before);
  };
  run(kLlmkit);  // warm: connections, lanes
  run(kCurl);
  std::vector<double> ratios;
  double llmkit_calls = 0;
  double curl_calls = 0;
  for (int r = 0; r < rounds; ++r) {
    double l = 0;
    double c = 0;
    if (r % 2 == 0) {
      l = run(kLlmkit);
      c = run(kCurl);
    } else {
      c = run(kCurl);
      l = run(kLlmkit);
    }
    ratios.push_back(c / l);  // time per call: llmkit's over libcurl's
    llmkit_calls += l;
    curl_calls += c;
  }
  phase.store(kStop);
  for (std::thread& w : workers) w.join();
  std::sort(ratios.begin(), ratios.end());
  const double seconds = rounds * phase_ms / 1000.0;
  std::printf(
      "http chat, %d threads, %d rounds of %d ms: llmkit %.0f calls/s, libcurl %.0f calls/s; "
      "time per call llmkit / libcurl: median %.3f (rounds %.3f to %.3f; target at most 1.11)\n",
      threads, rounds, phase_ms, llmkit_calls / seconds, curl_calls / seconds,
      ratios[ratios.size() / 2], ratios.front(), ratios.back());
  llmkit_request_free(request);
  llmkit_client_free(client);
  return 0;
}
