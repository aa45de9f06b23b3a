// Call metrics read back from a traces table (docs/traces.md), for an
// exporter that runs apart from the clients writing it: each row becomes
// the Sample its call was, counted into a registry as a client would have.
// What only a live client knows (breakers, hooks, its trace writer, cache
// misses, rate-limit refusals) is not in the table.
#pragma once

#include "core/alloc.h"
#include "metrics/registry.h"
#include "trace/target.h"

namespace llmkit::metrics {

// Every call of the table. Fails as trace::for_each_record does.
Unique<Registry> registry_from_traces(const trace::Target& target, std::size_t max_series);

}  // namespace llmkit::metrics
