// A View as one JSON object (llmkit_client_stats_json, docs/metrics.md):
// the health, the calls' totals and series, every part's figures, and the
// recommendations.
#pragma once

#include "core/alloc.h"
#include "metrics/view.h"

namespace llmkit::metrics {

String stats_json(const View& v);

// {"state": "ok", "reasons": [...]}
String health_json(const HealthReport& h);

}  // namespace llmkit::metrics
