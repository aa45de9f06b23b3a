// Embeddings cached per input: a batch is split into the inputs the cache
// holds and those it must ask for; only the misses go upstream, and the
// answer is put back together in the original order. Requests and answers
// have OpenAI's shape (also OpenAI-compatible servers' and Ollama's /v1).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include "cache/cache.h"
#include "core/alloc.h"

namespace llmkit::cache {

class EmbeddingBatch {
 public:
  // Looks every input of `request_json` up in `cache`, which must outlive
  // the batch. INVALID_ARGUMENT for a request without a usable "input".
  EmbeddingBatch(Cache& cache, std::string_view scope, std::string_view provider,
                 std::string_view request_json);

  std::size_t inputs() const noexcept { return keys_.size(); }
  std::size_t misses() const noexcept { return misses_.size(); }
  // The request for the misses only; empty when there are none.
  std::string_view upstream_request() const noexcept {
    return {upstream_.data(), upstream_.size()};
  }

  // Stores the embeddings of `upstream_response` (empty when there were no
  // misses) and returns the whole answer, valid while the batch lives.
  // PROVIDER_ERROR when the answer does not fit the request.
  std::string_view complete(std::string_view upstream_response, std::int64_t ttl_ns);

 private:
  Cache& cache_;
  String request_;                   // the original, kept for "model"
  std::vector<Key> keys_;            // one per input
  std::vector<ValueRef> found_;      // one per input: the hit, or empty
  std::vector<std::size_t> misses_;  // input indexes, ascending
  String upstream_;
  String response_;
};

}  // namespace llmkit::cache
