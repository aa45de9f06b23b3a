// A View as Prometheus text exposition format 0.0.4 (docs/metrics.md
// lists every family): # HELP and # TYPE, counters ending in _total,
// histograms as cumulative _bucket{le=...}, _sum and _count.
#pragma once

#include "core/alloc.h"
#include "metrics/view.h"

namespace llmkit::metrics {

// The content type to serve it with.
inline constexpr const char* kPrometheusType = "text/plain; version=0.0.4; charset=utf-8";

String prometheus_text(const View& v);

}  // namespace llmkit::metrics
