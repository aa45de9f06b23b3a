// A process that uses a rate limiter through the C API, for the tests that
// need several processes on one limit (test/unit/ratelimit_backends_test.cpp,
// test/bindings/shared_limit_test.sh).
//
//   worker hammer START MS KEY OPTION=VALUE...
//       from START (ms since the epoch; 0: now) checks KEY for MS ms, then
//       prints "c ADMITTED FIRST LAST" (first and last check, us since the epoch)
//   worker hold N KEY OPTION=VALUE...
//       acquires N concurrency slots of KEY, prints "held", waits to be killed
//   worker chat N CALLER OPTION=VALUE...
//       makes a client of the options and N chat calls as CALLER, then prints
//       "chat OK REFUSED" (calls answered, calls failed BUDGET_EXCEEDED):
//       processes on one budget store (test/unit/budget_api_test.cpp)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "llmkit.h"

namespace {

int die(const char* what) {
  std::fprintf(stderr, "worker: %s: %s\n", what, llmkit_last_error());
  return 2;
}

long long micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// The OPTION=VALUE arguments from `first_option` on; null for a bad one.
llmkit_options* options_of(int argc, char** argv, int first_option) {
  llmkit_options* o = nullptr;
  if (llmkit_options_new(&o) != LLMKIT_OK) return nullptr;
  for (int i = first_option; i < argc; ++i) {
    const std::string kv = argv[i];
    const auto eq = kv.find('=');
    if (eq == std::string::npos ||
        llmkit_options_set(o, kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str()) != LLMKIT_OK) {
      std::fprintf(stderr, "worker: bad option %s\n", argv[i]);
      llmkit_options_free(o);
      return nullptr;
    }
  }
  return o;
}

llmkit_ratelimiter* make(int argc, char** argv, int first_option) {
  llmkit_options* o = options_of(argc, argv, first_option);
  if (o == nullptr) return nullptr;
  llmkit_ratelimiter* rl = nullptr;
  if (llmkit_ratelimiter_new(o, &rl) != LLMKIT_OK) rl = nullptr;
  llmkit_options_free(o);
  return rl;
}

int hammer(long long start_ms, long ms, const char* key, llmkit_ratelimiter* rl) {
  using std::chrono::system_clock;
  if (start_ms > 0)
    std::this_thread::sleep_until(system_clock::time_point(std::chrono::milliseconds(start_ms)));
  const auto first = system_clock::now();
  const auto end = first + std::chrono::milliseconds(ms);
  long admitted = 0;
  while (system_clock::now() < end) {
    int allowed = 0;
    if (llmkit_ratelimiter_check(rl, key, std::strlen(key), 0, &allowed, nullptr, nullptr,
                                 nullptr) != LLMKIT_OK) {
      return die("check");
    }
    admitted += allowed;
  }
  std::printf("c %ld %lld %lld\n", admitted, micros(first), micros(system_clock::now()));
  return 0;
}

int hold(long n, const char* key, llmkit_ratelimiter* rl) {
  for (long i = 0; i < n; ++i) {
    if (llmkit_ratelimiter_acquire(rl, key, std::strlen(key), 0, 10'000, nullptr) != LLMKIT_OK) {
      return die("acquire");
    }
  }
  std::printf("held\n");
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

int chat(long n, const char* caller, llmkit_options* client_options) {
  llmkit_client* client = nullptr;
  const llmkit_status made = llmkit_client_new(client_options, &client);
  llmkit_options_free(client_options);
  if (made != LLMKIT_OK) return die("client");
  llmkit_request* request = nullptr;
  llmkit_options* call = nullptr;
  if (llmkit_request_new(&request) != LLMKIT_OK || llmkit_options_new(&call) != LLMKIT_OK ||
      llmkit_request_set(request, "model", "gpt-4.1") != LLMKIT_OK ||
      llmkit_request_add_message(request, "user", "Hello") != LLMKIT_OK ||
      llmkit_options_set(call, "caller", caller) != LLMKIT_OK) {
    return die("request");
  }
  long ok = 0, refused = 0;
  int rc = 0;
  for (long i = 0; i < n && rc == 0; ++i) {
    llmkit_response* r = nullptr;
    const llmkit_status s =
        llmkit_client_chat(client, request, call, nullptr, nullptr, nullptr, &r);
    llmkit_response_free(r);
    if (s == LLMKIT_OK) {
      ++ok;
    } else if (s == LLMKIT_BUDGET_EXCEEDED) {
      ++refused;
    } else {
      rc = die("chat");
    }
  }
  if (rc == 0) std::printf("chat %ld %ld\n", ok, refused);
  llmkit_options_free(call);
  llmkit_request_free(request);
  llmkit_client_free(client);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "hammer" && argc >= 5) {
    llmkit_ratelimiter* rl = make(argc, argv, 5);
    if (rl == nullptr) return die("ratelimiter");
    const int rc = hammer(std::atoll(argv[2]), std::atol(argv[3]), argv[4], rl);
    llmkit_ratelimiter_free(rl);
    return rc;
  }
  if (mode == "hold" && argc >= 4) {
    llmkit_ratelimiter* rl = make(argc, argv, 4);
    if (rl == nullptr) return die("ratelimiter");
    return hold(std::atol(argv[2]), argv[3], rl);
  }
  if (mode == "chat" && argc >= 4) {
    llmkit_options* o = options_of(argc, argv, 4);
    if (o == nullptr) return 2;
    return chat(std::atol(argv[2]), argv[3], o);
  }
  std::fprintf(stderr,
               "usage: worker hammer START MS KEY OPTION=VALUE... | hold N KEY OPTION=VALUE... | "
               "chat N CALLER OPTION=VALUE...\n");
  return 2;
}
