#include "pipeline/router.h"

#include <algorithm>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/utf8.h"
#include "route/retry.h"

namespace llmkit::pipeline {
namespace {

constexpr std::size_t kOwn = static_cast<std::size_t>(-1);
constexpr std::int64_t kMinuteNs = 60'000'000'000;

bool contains(const Vector<std::size_t>& v, std::size_t i) {
  return std::find(v.begin(), v.end(), i) != v.end();
}

bool contains(const Vector<String>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

// A deployment of the table, with its client and live state.
struct Router::Live {
  Live(route::Deployment d, const std::function<const char*(const char*)>& environment,
       http::Transport& transport)
      : config(std::move(d)), client(with_key(config, environment), environment, transport) {
    if (config.rpm > 0 || config.tpm > 0) {
      ratelimit::Config c;
      c.requests = ratelimit::Rate::per_window(config.rpm, kMinuteNs, config.rpm);
      c.tokens = ratelimit::Rate::per_window(config.tpm, kMinuteNs, config.tpm);
      limiter.emplace(ratelimit::make_memory_store(c), &ratelimit::Limiter::monotonic_ns);
    }
  }

  // Its options, with the key from "api_key_env" when it names one.
  static Options with_key(const route::Deployment& d,
                          const std::function<const char*(const char*)>& environment) {
    Options o = d.options;
    if (!d.api_key_env.empty() && o.find("api_key") == nullptr) {
      const char* key = environment ? environment(d.api_key_env.c_str()) : nullptr;
      if (key == nullptr || *key == '\0') {
        fail(LLMKIT_AUTH, "deployment " + utf8::quote(d.name) + ": the environment variable " +
                              std::string(d.api_key_env) + " (its \"api_key_env\") is not set");
      }
      o.set("api_key", key);
    }
    return o;
  }

  route::Deployment config;
  client::Client client;
  route::Load load;
  std::optional<ratelimit::Limiter> limiter;
};

Router::Router(const Options& options, const std::function<const char*(const char*)>& environment,
               http::Transport& transport)
    : strategy_(route::strategy_of(options)), breakers_(route::BreakerPolicy::from(options)) {
  client::require_known(options);
  if (const String* list = options.find("deployments")) {
    for (route::Deployment& d :
         route::read_deployments(*list, options, client::endpoint_options())) {
      const std::string name = utf8::quote(d.name);
      try {
        table_.push_back(std::make_unique<Live>(std::move(d), environment, transport));
      } catch (const Error& e) {
        // The client's own message names an option; say whose it is.
        const std::string_view what = e.what();
        if (what.starts_with("deployment ")) throw;
        fail(e.status(), "deployment " + name + ": " + std::string(what));
      }
    }
  }
  index_members();
  if (const String* rules = options.find("fallbacks")) fallbacks_ = route::read_fallbacks(*rules);
  if (options.find("provider") != nullptr || table_.empty()) {
    Options own = options;
    // What only the pipeline reads would read as the own client's mistake.
    own.unset("deployments");
    own.unset("fallbacks");
    own_.emplace(own, environment, transport);
  }
}

Router::~Router() = default;

std::string_view Router::default_model() const {
  return own_ ? own_->model() : "";
}

const Vector<std::size_t>& Router::members(std::string_view group) const {
  for (const auto& [name, indices] : members_) {
    if (name == group) return indices;
  }
  static const Vector<std::size_t> kNone;
  return kNone;
}

void Router::index_members() {
  const auto add = [this](std::string_view name, std::size_t i) {
    for (auto& [known, indices] : members_) {
      if (known == name) {
        indices.push_back(i);
        return;
      }
    }
    members_.emplace_back(make_string(name), Vector<std::size_t>{i});
  };
  for (std::size_t i = 0; i < table_.size(); ++i) add(table_[i]->config.group, i);
  // A deployment's own name serves as a group of one, unless it is a group.
  const std::size_t groups = members_.size();
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const std::string_view name = table_[i]->config.name;
    const auto first = members_.begin();
    if (std::none_of(first, first + static_cast<std::ptrdiff_t>(groups),
                     [&](const auto& g) { return g.first == name; })) {
      add(name, i);
    }
  }
}

Router::Plan Router::plan(std::string_view model, const Options* call_options) const {
  Plan p;
  p.first = make_string(model);
  p.group = p.first;
  p.visited.push_back(p.first);
  const std::string_view key =
      call_options != nullptr ? call_options->get_string("route.key", "") : std::string_view();
  p.sticky = key.empty() ? route::random_point() : route::sticky_point(model, key);
  return p;
}

std::string_view Router::provider_of(std::string_view model) const {
  const Vector<std::size_t>& m = members(model);
  if (!m.empty()) return table_[m.front()]->client.provider_name();
  return own_ ? own_->provider_name() : std::string_view();
}

Router::Target Router::admit(Plan& plan, const std::function<std::int64_t()>& tokens) {
  ++plan.tries;
  const Vector<std::size_t>& m = members(plan.group);
  const bool enabled = breakers_.policy().enabled;
  if (m.empty()) {
    if (!own_) {
      fail(LLMKIT_NOT_FOUND, "no deployment serves " + utf8::quote(plan.group) +
                                 ": it is neither the group nor the name of one in "
                                 "\"deployments\", and the client has no \"provider\" of its own");
    }
    Target t;
    t.client = &*own_;
    t.model = t.name = plan.group;
    t.provider = own_->provider_name();
    t.index = kOwn;
    if (enabled) {
      route::Breaker& b = breakers_.of(plan.group);
      if (!b.admit(now_ms())) {
        fail(LLMKIT_UNAVAILABLE, "the circuit for " + std::string(t.provider) + " " +
                                     std::string(plan.group) +
                                     " is open after too many failures; the next try goes "
                                     "through in " +
                                     std::to_string(b.stats(now_ms()).retry_in_ms) + " ms");
      }
      t.breaker = &b;
    }
    return t;
  }

  Vector<route::Candidate> candidates;
  candidates.reserve(m.size());
  bool fresh = false;  // one of them has not failed this call
  for (const std::size_t i : m) {
    const Live& d = *table_[i];
    route::Candidate c{d.config.weight, d.config.split, &d.load, !contains(plan.failed, i)};
    fresh = fresh || c.usable;
    candidates.push_back(c);
  }
  if (!fresh) {  // every one failed already: a retry may go to any of them
    for (route::Candidate& c : candidates) c.usable = true;
  }
  std::int64_t open = 0;
  std::int64_t limited = 0;
  std::int64_t limited_wait_ns = -1;
  while (const auto at = route::pick(candidates, strategy_, plan.sticky, route::random_point())) {
    Live& d = *table_[m[*at]];
    candidates[*at].usable = false;  // if this one refuses, pick among the rest
    Target t;
    t.client = &d.client;
    t.name = d.config.name;
    t.model = d.config.model;
    t.provider = d.client.provider_name();
    t.load = &d.load;
    t.index = m[*at];
    if (enabled) {
      route::Breaker& b = breakers_.of(d.config.name);
      if (!b.admit(now_ms())) {
        ++open;
        continue;
      }
      t.breaker = &b;
    }
    if (d.limiter) {
      const std::int64_t need = d.config.tpm > 0 ? tokens() : 0;
      const ratelimit::Decision verdict = d.limiter->check("", need);
      if (!verdict.allowed) {
        if (t.breaker != nullptr) t.breaker->done(route::Breaker::Outcome::kNeither, now_ms());
        ++limited;
        if (verdict.retry_after_ns >= 0 &&
            (limited_wait_ns < 0 || verdict.retry_after_ns < limited_wait_ns)) {
          limited_wait_ns = verdict.retry_after_ns;
        }
        continue;
      }
      t.limiter = &*d.limiter;
      t.tokens = need;
    }
    d.load.begin();
    return t;
  }
  const std::string group = utf8::quote(plan.group);
  if (limited > 0 && open == 0) {
    fail(LLMKIT_RATE_LIMITED,
         "every deployment of " + group + " is at its rpm or tpm limit" +
             (limited_wait_ns >= 0
                  ? "; the first frees in " +
                        std::to_string((limited_wait_ns + 999'999) / 1'000'000) + " ms"
                  : ""));
  }
  fail(LLMKIT_UNAVAILABLE, "every deployment of " + group + " is refusing calls (" +
                               std::to_string(open) + " with an open circuit, " +
                               std::to_string(limited) + " at their rpm or tpm limit)");
}

void Router::end(Plan& plan, const Target& t, llmkit_status status, int http_status,
                 std::int64_t latency_us, std::int64_t used) noexcept {
  if (status != LLMKIT_OK && t.index != kOwn) {
    try {
      plan.failed.push_back(t.index);
    } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: the next try may pick it again
    }
  }
  if (t.breaker != nullptr) {
    using Outcome = route::Breaker::Outcome;
    t.breaker->done(status == LLMKIT_OK                     ? Outcome::kSuccess
                    : route::retryable(status, http_status) ? Outcome::kFailure
                                                            : Outcome::kNeither,
                    now_ms());
  }
  if (t.load != nullptr) t.load->end(status == LLMKIT_OK ? latency_us : -1);
  if (t.limiter != nullptr && t.tokens > 0 && used >= 0) {
    try {
      t.limiter->reconcile("", t.tokens, used);
    } catch (...) {  // NOLINT(bugprone-empty-catch): an in-memory store does not fail
    }
  }
}

bool Router::fresh_left(const Plan& plan) {
  for (const std::size_t i : members(plan.group)) {
    if (contains(plan.failed, i)) continue;
    route::Breaker* b = breaker(table_[i]->config.name);
    if (b == nullptr || !b->refusing(now_ms())) return true;
  }
  return false;
}

bool Router::fall_back(Plan& plan, route::ErrorClass failure) const {
  for (const route::Fallback& rule : fallbacks_) {
    if ((rule.on & failure) == 0) continue;
    if (rule.from != "*" && rule.from != plan.first && rule.from != plan.group) continue;
    for (const String& to : rule.to) {
      if (contains(plan.visited, to)) continue;
      plan.group = to;
      plan.visited.push_back(to);
      plan.tries = 0;
      return true;
    }
  }
  return false;
}

route::Breaker* Router::breaker(std::string_view name) {
  return breakers_.policy().enabled ? breakers_.find(name) : nullptr;
}

const route::Deployment* Router::deployment(std::string_view name) const {
  for (const auto& d : table_) {
    if (d->config.name == name) return &d->config;
  }
  return nullptr;
}

}  // namespace llmkit::pipeline
