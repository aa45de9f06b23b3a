#include "metrics/stats_json.h"

#include <charconv>
#include <string_view>
#include <type_traits>

#include "core/json.h"
#include "llmkit.h"

namespace llmkit::metrics {
namespace {

// Writes one object's members, commas included.
class Object {
 public:
  explicit Object(String& out) : out_(out) { out_.push_back('{'); }
  ~Object() { out_.push_back('}'); }
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  // The member's name; its value is written next.
  String& key(std::string_view name) {
    if (!first_) out_.push_back(',');
    first_ = false;
    json::append_string(out_, name);
    out_.push_back(':');
    return out_;
  }
  template <class V>
  Object& number(std::string_view name, V v) {
    key(name);
    char buf[32];
    const char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    out_.append(buf, static_cast<std::size_t>(end - buf));
    return *this;
  }
  Object& text(std::string_view name, std::string_view v) {
    json::append_string(key(name), v);
    return *this;
  }
  Object& boolean(std::string_view name, bool v) {
    key(name).append(v ? "true" : "false");
    return *this;
  }

 private:
  String& out_;
  bool first_ = true;
};

// A JSON array of what `fn(out, item)` writes for each item.
template <class List, class F>
void array(String& out, const List& list, F&& fn) {
  out.push_back('[');
  bool first = true;
  for (const auto& item : list) {
    if (!first) out.push_back(',');
    first = false;
    fn(out, item);
  }
  out.push_back(']');
}

std::uint64_t load(const std::atomic<std::uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

// count, sum and mean of a histogram in milliseconds.
void timing(String& out, const Histogram& h) {
  Object o(out);
  const std::uint64_t n = h.total();
  const double sum_ms = static_cast<double>(h.sum()) / 1000.0;
  o.number("count", n).number("sum_ms", sum_ms);
  if (n > 0) o.number("mean_ms", sum_ms / static_cast<double>(n));
}

void series(String& out, const Series& s) {
  Object o(out);
  o.text("operation", s.operation).text("model", s.model).text("provider", s.provider);
  o.text("deployment", s.deployment);
  {
    Object by(o.key("requests"));
    for (std::size_t i = 0; i < kStatuses; ++i) {
      if (const std::uint64_t n = load(s.calls[i])) {
        by.number(i == LLMKIT_OK ? "ok" : llmkit_status_str(static_cast<llmkit_status>(i)), n);
      }
    }
  }
  timing(o.key("latency"), s.duration);
  timing(o.key("first_token"), s.first_token);
  {
    Object t(o.key("tokens"));
    t.number("input", load(s.tokens[kInput])).number("output", load(s.tokens[kOutput]));
    t.number("cache_read", load(s.tokens[kCacheRead]));
    t.number("cache_creation", load(s.tokens[kCacheCreation]));
    t.number("reasoning", load(s.tokens[kReasoning]));
  }
  o.number("cost_usd", static_cast<double>(load(s.cost_nano_usd)) / 1e9);
  o.number("cache_hits", load(s.cache_hits)).number("cache_misses", load(s.cache_misses));
  o.number("ratelimit_rejected", load(s.limited));
  o.number("retries", load(s.retries)).number("fallbacks", load(s.fallbacks));
}

std::string_view state_name(route::Breaker::State s) {
  switch (s) {
    case route::Breaker::State::kOpen:
      return "open";
    case route::Breaker::State::kHalfOpen:
      return "half_open";
    case route::Breaker::State::kClosed:
      break;
  }
  return "closed";
}

void calls(Object& root, const Registry& r) {
  const Totals t = totals_of(r);
  {
    Object c(root.key("calls"));
    c.number("requests", t.calls).number("errors", t.errors);
    c.number("cache_hits", t.cache_hits).number("cache_misses", t.cache_misses);
    const std::uint64_t lookups = t.cache_hits + t.cache_misses;
    if (lookups > 0) {
      c.number("cache_hit_rate", static_cast<double>(t.cache_hits) / static_cast<double>(lookups));
    }
    c.number("ratelimit_rejected", t.limited).number("series_overflow", r.overflowed());
  }
  String& out = root.key("series");
  out.push_back('[');
  bool first = true;
  r.for_each([&](const Series& s) {
    if (!first) out.push_back(',');
    first = false;
    series(out, s);
  });
  out.push_back(']');
}

void parts(Object& root, const View& v) {
  array(root.key("breakers"), v.breakers, [](String& out, const BreakerView& b) {
    Object o(out);
    o.text("deployment", b.deployment).text("state", state_name(b.stats.state));
    o.number("opened", b.stats.opened).number("recent_opens", b.stats.recent_opens);
    o.number("rejected", b.stats.rejected).number("calls", b.stats.calls);
    o.number("failures", b.stats.failures).number("retry_in_ms", b.stats.retry_in_ms);
  });
  array(root.key("hooks"), v.hooks, [](String& out, const hooks::Stats& h) {
    Object o(out);
    o.number("id", h.id).text("kind", hooks::kind_name(h.kind)).boolean("async", h.async);
    o.number("calls", h.calls).number("skipped", h.skipped).number("errors", h.errors);
    o.number("rule_failures", h.rule_failures).number("dropped", h.dropped);
    o.number("slow", h.slow).number("total_us", h.total_us).number("max_us", h.max_us);
    if (h.calls > 0) {
      o.number("mean_us", static_cast<double>(h.total_us) / static_cast<double>(h.calls));
    }
  });
  if (v.trace) {
    Object o(root.key("trace"));
    o.number("written", v.trace->written).number("dropped", v.trace->dropped);
    o.number("failed_writes", v.trace->failed_writes).number("queued", v.trace->queued);
    o.boolean("failing", v.trace->failing).text("last_error", v.trace->last_error);
  }
  if (v.cache) {
    Object o(root.key("cache"));
    o.number("hits", v.cache->hits).number("misses", v.cache->misses);
    o.number("entries", v.cache->tier.entries).number("bytes", v.cache->tier.bytes);
    o.number("evictions", v.cache->tier.evictions);
    o.number("expirations", v.cache->tier.expirations).number("waits", v.cache->waits);
    o.number("backend_errors", v.cache->backend_errors);
  }
  if (v.limiter) {
    Object o(root.key("ratelimiter"));
    o.number("allowed", v.limiter->allowed).number("limited", v.limiter->limited);
  }
  if (v.budget) {
    Object o(root.key("budget"));
    o.number("refused", v.budget->refused).number("store_errors", v.budget->store_errors);
    o.number("unrecorded", v.budget->unrecorded);
  }
}

}  // namespace

String stats_json(const View& v) {
  String out;
  {
    Object root(out);
    root.key("health").append(health_json(health_of(v)));
    if (v.calls != nullptr) calls(root, *v.calls);
    parts(root, v);
    array(root.key("recommendations"), recommend(v), [](String& o, const Recommendation& r) {
      Object rec(o);
      rec.text("code", r.code).text("message", r.message);
    });
  }
  return out;
}

String health_json(const HealthReport& h) {
  String out;
  {
    Object o(out);
    o.text("state", health_name(h.state));
    array(o.key("reasons"), h.reasons,
          [](String& s, const std::string& r) { json::append_string(s, r); });
  }
  return out;
}

}  // namespace llmkit::metrics
