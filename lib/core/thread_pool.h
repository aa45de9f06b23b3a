// The library's shared worker threads, for work that splits into
// independent items (batch token counting, ...).
#pragma once

#include <cstddef>
#include <functional>

namespace llmkit {

// Runs fn(i) for every i in [0, n) on the shared workers (one per core,
// started on first use) and on the calling thread; returns when all are
// done. fn must not throw. Calls from several threads are served one job
// at a time, each using every core.
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);

}  // namespace llmkit
