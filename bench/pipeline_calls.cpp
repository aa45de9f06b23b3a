// The calls of make bench's pipeline/full and pipeline/full/baseline, and the
// same request through a plain libcurl easy handle (http/chat/baseline), for
// callgrind (bench/pipeline_instructions.sh): the instructions a call runs
// do not vary with the machine's load as its time does. Usage:
// llmkit_pipeline_calls full|bare|curl N
#include <cstdio>
#include <cstdlib>
#include <string_view>

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

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc == 3 ? argv[1] : "";
  if (mode != "full" && mode != "bare" && mode != "curl") {
    std::fprintf(stderr, "usage: llmkit_pipeline_calls full|bare|curl N\n");
    return 2;
  }
  const int n = std::atoi(argv[2]);
  if (mode == "curl") {
    // What the bare client sends for PipelineCall's request (its seed aside).
    llmkit::bench::RawCurlCall call(
        R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}],"seed":1})");
    for (int i = 0; i < 50; ++i) call.once();  // the connection
    measured_calls_curl(call, n);
    return 0;
  }
  const bool full = mode == "full";
  llmkit_client* client = full ? llmkit::bench::full_client() : llmkit::bench::new_client();
  const char* model = full ? "chat" : "gpt-4o-mini";
  {
    llmkit::bench::PipelineCall warm(model);  // connections, tokenizer tables
    for (int i = 0; i < 50; ++i) warm.once(client, true);
  }
  measured_calls(client, model, n);
  llmkit_client_free(client);
  return 0;
}
