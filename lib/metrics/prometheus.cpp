#include "metrics/prometheus.h"

#include <charconv>
#include <string_view>
#include <utility>

#include "llmkit.h"

namespace llmkit::metrics {
namespace {

using Label = std::pair<std::string_view, std::string_view>;
using Labels = Vector<Label>;

Labels with(Labels labels, std::string_view key, std::string_view value) {
  labels.emplace_back(key, value);
  return labels;
}

// Writes families and their samples. Label values are escaped as the format
// asks (backslash, double quote, line feed); names are fixed here.
class Text {
 public:
  explicit Text(String& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    out_.append(name).append(" ").append(type).append("\n");
  }

  template <class V>
  void sample(std::string_view name, const Labels& labels, V value) {
    out_.append(name);
    const char* glue = "{";
    for (const auto& [key, val] : labels) {
      out_.append(glue).append(key).append("=\"");
      escape(val);
      out_.append("\"");
      glue = ",";
    }
    if (!labels.empty()) out_.append("}");
    out_.append(" ");
    number(value);
    out_.append("\n");
  }

  // Cumulative buckets, then _sum and _count; `scale` turns the
  // histogram's unit into the family's (microseconds into seconds).
  void histogram(std::string_view name, const Labels& labels, const Histogram& h, double scale) {
    const String bucket = make_string(name).append("_bucket");
    std::uint64_t cumulative = 0;
    char le[32];
    for (std::size_t i = 0; i < h.bounds().size(); ++i) {
      cumulative += h.count(i);
      const double bound = static_cast<double>(h.bounds()[i]) * scale;
      const char* end = std::to_chars(le, le + sizeof le, bound).ptr;
      sample(bucket, with(labels, "le", std::string_view(le, end - le)), cumulative);
    }
    cumulative += h.count(h.bounds().size());
    sample(bucket, with(labels, "le", "+Inf"), cumulative);
    sample(make_string(name).append("_sum"), labels, static_cast<double>(h.sum()) * scale);
    sample(make_string(name).append("_count"), labels, cumulative);
  }

 private:
  void escape(std::string_view v) {
    for (const char c : v) {
      if (c == '\\') {
        out_.append("\\\\");
      } else if (c == '"') {
        out_.append("\\\"");
      } else if (c == '\n') {
        out_.append("\\n");
      } else {
        out_.push_back(c);
      }
    }
  }
  template <class V>
  void number(V v) {
    char buf[32];
    const char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    out_.append(buf, static_cast<std::size_t>(end - buf));
  }

  String& out_;
};

Labels labels_of(const Series& s) {
  return {{"gen_ai_operation_name", s.operation},
          {"gen_ai_request_model", s.model},
          {"gen_ai_provider_name", s.provider},
          {"deployment", s.deployment}};
}

// The status label: as the traces table's column, "ok" or the status's name.
std::string_view status_label(std::size_t i) {
  return i == LLMKIT_OK ? "ok" : llmkit_status_str(static_cast<llmkit_status>(i));
}

std::uint64_t load(const std::atomic<std::uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

constexpr double kSecondsPerUs = 1e-6;
constexpr std::string_view kTokenTypeNames[kTokenTypes] = {"input", "output", "cache_read",
                                                           "cache_creation", "reasoning"};

void calls(Text& t, const Registry& r) {
  // Each family walks the series once; a counter only where it moved, so
  // that a series shows the statuses it has seen.
  const auto each = [&](auto&& fn) { r.for_each(fn); };
  t.family("llmkit_requests_total", "counter",
           "Calls ended, by status (\"ok\" or the llmkit status name, as the traces table).");
  each([&](const Series& s) {
    for (std::size_t i = 0; i < kStatuses; ++i) {
      if (const std::uint64_t n = load(s.calls[i])) {
        t.sample("llmkit_requests_total", with(labels_of(s), "status", status_label(i)), n);
      }
    }
  });
  t.family("llmkit_gen_ai_client_operation_duration_seconds", "histogram",
           "Duration of whole calls, retries and their waits included "
           "(gen_ai.client.operation.duration).");
  each([&](const Series& s) {
    t.histogram("llmkit_gen_ai_client_operation_duration_seconds", labels_of(s), s.duration,
                kSecondsPerUs);
  });
  t.family("llmkit_gen_ai_client_time_to_first_token_seconds", "histogram",
           "Time to the first streamed token of the answering try.");
  each([&](const Series& s) {
    if (s.first_token.total() == 0) return;
    t.histogram("llmkit_gen_ai_client_time_to_first_token_seconds", labels_of(s), s.first_token,
                kSecondsPerUs);
  });
  t.family("llmkit_gen_ai_client_token_usage", "histogram",
           "Tokens per call that reported usage, by gen_ai_token_type "
           "(gen_ai.client.token.usage).");
  each([&](const Series& s) {
    t.histogram("llmkit_gen_ai_client_token_usage",
                with(labels_of(s), "gen_ai_token_type", "input"), s.input_tokens, 1);
    t.histogram("llmkit_gen_ai_client_token_usage",
                with(labels_of(s), "gen_ai_token_type", "output"), s.output_tokens, 1);
  });
  t.family("llmkit_tokens_total", "counter",
           "Tokens by type; cache_read and cache_creation are part of input, reasoning of output.");
  each([&](const Series& s) {
    for (std::size_t i = 0; i < kTokenTypes; ++i) {
      t.sample("llmkit_tokens_total", with(labels_of(s), "type", kTokenTypeNames[i]),
               load(s.tokens[i]));
    }
  });
  t.family("llmkit_cost_usd_total", "counter", "Dollars spent, from the client's price table.");
  each([&](const Series& s) {
    t.sample("llmkit_cost_usd_total", labels_of(s),
             static_cast<double>(load(s.cost_nano_usd)) / 1e9);
  });
  t.family("llmkit_cache_lookups_total", "counter",
           "Calls the client's response cache answered (hit) or looked up in vain (miss).");
  each([&](const Series& s) {
    t.sample("llmkit_cache_lookups_total", with(labels_of(s), "result", "hit"), load(s.cache_hits));
    t.sample("llmkit_cache_lookups_total", with(labels_of(s), "result", "miss"),
             load(s.cache_misses));
  });
  t.family("llmkit_ratelimit_rejected_total", "counter",
           "Calls the client's rate limiter refused (the provider never saw them).");
  each([&](const Series& s) {
    t.sample("llmkit_ratelimit_rejected_total", labels_of(s), load(s.limited));
  });
  t.family("llmkit_retries_total", "counter", "Tries after the first, in every group.");
  each([&](const Series& s) { t.sample("llmkit_retries_total", labels_of(s), load(s.retries)); });
  t.family("llmkit_fallbacks_total", "counter", "Calls that ended in another group than asked.");
  each([&](const Series& s) {
    t.sample("llmkit_fallbacks_total", labels_of(s), load(s.fallbacks));
  });
  t.family("llmkit_metrics_series_overflow_total", "counter",
           R"(Calls counted under the "_overflow" labels: past "metrics.max_series" label sets.)");
  t.sample("llmkit_metrics_series_overflow_total", {}, r.overflowed());
}

void breakers(Text& t, const std::vector<BreakerView>& list) {
  if (list.empty()) return;
  t.family("llmkit_breaker_state", "gauge",
           "A deployment's circuit breaker: 0 closed, 1 open, 2 half-open.");
  for (const BreakerView& b : list) {
    t.sample("llmkit_breaker_state", {{"deployment", b.deployment}},
             static_cast<int>(b.stats.state));
  }
  t.family("llmkit_breaker_opened_total", "counter", "Times a deployment's breaker opened.");
  for (const BreakerView& b : list) {
    t.sample("llmkit_breaker_opened_total", {{"deployment", b.deployment}}, b.stats.opened);
  }
  t.family("llmkit_breaker_rejected_total", "counter",
           "Calls a deployment's open breaker failed at once.");
  for (const BreakerView& b : list) {
    t.sample("llmkit_breaker_rejected_total", {{"deployment", b.deployment}}, b.stats.rejected);
  }
}

struct HookFamily {
  std::string_view name, type, help;
  double (*value)(const hooks::Stats&);
};
constexpr HookFamily kHookFamilies[] = {
    {"llmkit_hook_runs_total", "counter", "Runs of a hook of the attached set (its rule matched).",
     [](const hooks::Stats& h) { return static_cast<double>(h.calls); }},
    {"llmkit_hook_errors_total", "counter", "Runs that failed (never failing the call).",
     [](const hooks::Stats& h) { return static_cast<double>(h.errors); }},
    {"llmkit_hook_dropped_total", "counter", "Async events lost to a full queue.",
     [](const hooks::Stats& h) { return static_cast<double>(h.dropped); }},
    {"llmkit_hook_duration_seconds_total", "counter", "Time spent in a hook's runs.",
     [](const hooks::Stats& h) { return static_cast<double>(h.total_us) * kSecondsPerUs; }},
    {"llmkit_hook_max_duration_seconds", "gauge", "The longest run of a hook.",
     [](const hooks::Stats& h) { return static_cast<double>(h.max_us) * kSecondsPerUs; }}};

void hook_stats(Text& t, const std::vector<hooks::Stats>& list) {
  if (list.empty()) return;
  // The ids as text outlive the lines they label.
  Vector<String> ids;
  ids.reserve(list.size());
  for (const hooks::Stats& h : list) ids.push_back(make_string(std::to_string(h.id)));
  for (const HookFamily& f : kHookFamilies) {
    t.family(f.name, f.type, f.help);
    for (std::size_t i = 0; i < list.size(); ++i) {
      t.sample(f.name,
               {{"hook", ids[i]},
                {"kind", hooks::kind_name(list[i].kind)},
                {"async", list[i].async ? "true" : "false"}},
               f.value(list[i]));
    }
  }
}

void parts(Text& t, const View& v) {
  if (v.trace) {
    t.family("llmkit_trace_records_written_total", "counter", "Trace records written.");
    t.sample("llmkit_trace_records_written_total", {}, v.trace->written);
    t.family("llmkit_trace_records_dropped_total", "counter",
             "Trace records lost: a full queue, or a batch the database refused.");
    t.sample("llmkit_trace_records_dropped_total", {}, v.trace->dropped);
    t.family("llmkit_trace_failed_writes_total", "counter", "Trace batches that failed.");
    t.sample("llmkit_trace_failed_writes_total", {}, v.trace->failed_writes);
    t.family("llmkit_trace_records_queued", "gauge", "Trace records not yet written.");
    t.sample("llmkit_trace_records_queued", {}, v.trace->queued);
  }
  if (v.cache) {
    t.family("llmkit_cache_entries", "gauge", "Entries in the attached cache's memory tier.");
    t.sample("llmkit_cache_entries", {}, v.cache->tier.entries);
    t.family("llmkit_cache_bytes", "gauge", "Bytes held by the attached cache's memory tier.");
    t.sample("llmkit_cache_bytes", {}, v.cache->tier.bytes);
    t.family("llmkit_cache_evictions_total", "counter", "Entries the cache's bounds pushed out.");
    t.sample("llmkit_cache_evictions_total", {}, v.cache->tier.evictions);
  }
  if (v.limiter) {
    t.family("llmkit_ratelimiter_decisions_total", "counter",
             "Checks of the attached rate limiter, by every client using it.");
    t.sample("llmkit_ratelimiter_decisions_total", {{"result", "allowed"}}, v.limiter->allowed);
    t.sample("llmkit_ratelimiter_decisions_total", {{"result", "limited"}}, v.limiter->limited);
  }
  if (v.budget) {
    t.family("llmkit_budget_refused_total", "counter", "Calls failed BUDGET_EXCEEDED.");
    t.sample("llmkit_budget_refused_total", {}, v.budget->refused);
    t.family("llmkit_budget_store_errors_total", "counter", "Budget store calls that failed.");
    t.sample("llmkit_budget_store_errors_total", {}, v.budget->store_errors);
  }
}

}  // namespace

String prometheus_text(const View& v) {
  String out;
  Text t(out);
  if (v.calls != nullptr) calls(t, *v.calls);
  breakers(t, v.breakers);
  hook_stats(t, v.hooks);
  parts(t, v);
  if (!v.live) return out;
  const HealthReport h = health_of(v);
  t.family("llmkit_health", "gauge", "The client's health: 0 ok, 1 degraded, 2 unhealthy.");
  t.sample("llmkit_health", {}, static_cast<int>(h.state));
  return out;
}

}  // namespace llmkit::metrics
