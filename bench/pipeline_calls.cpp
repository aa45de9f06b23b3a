// The calls of make bench's pipeline/full and pipeline/full/baseline, for
// callgrind (bench/pipeline_instructions.sh): the instructions a call runs
// do not vary with the machine's load as its time does. Usage:
// llmkit_pipeline_calls full|bare N
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "full") != 0 && std::strcmp(argv[1], "bare") != 0)) {
    std::fprintf(stderr, "usage: llmkit_pipeline_calls full|bare N\n");
    return 2;
  }
  const bool full = std::strcmp(argv[1], "full") == 0;
  llmkit_client* client = full ? llmkit::bench::full_client() : llmkit::bench::new_client();
  const char* model = full ? "chat" : "gpt-4o-mini";
  {
    llmkit::bench::PipelineCall warm(model);  // connections, tokenizer tables
    for (int i = 0; i < 50; ++i) warm.once(client, true);
  }
  measured_calls(client, model, std::atoi(argv[2]));
  llmkit_client_free(client);
  return 0;
}
