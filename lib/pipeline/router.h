// Where each try of a call goes (docs/routing.md): the client's deployments
// ("deployments"), grouped by the model name requests ask for, balanced
// and split within a group, skipped while their circuit is open or their
// rpm/tpm is spent, and the fallback rules ("fallbacks") that move a failed
// call to another group. A client with a "provider" of its own also serves
// every model no group claims, as one deployment per model.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "client/client.h"
#include "core/alloc.h"
#include "ratelimit/limiter.h"
#include "route/balancer.h"
#include "route/breaker.h"
#include "route/table.h"

namespace llmkit::pipeline {

class Router {
 public:
  Router(const Options& options, const std::function<const char*(const char*)>& environment,
         http::Transport& transport);
  ~Router();

  // One try's destination, admitted: its breaker (when on) and its limiter
  // (when it has one) have let it through, and end() must follow.
  struct Target {
    client::Client* client = nullptr;
    std::string_view name;      // the deployment
    std::string_view model;     // what the provider is asked for
    std::string_view provider;  // its provider's name
    route::Breaker* breaker = nullptr;
    route::Load* load = nullptr;
    ratelimit::Limiter* limiter = nullptr;
    std::int64_t tokens = 0;  // reserved of its tpm
    std::size_t index = 0;    // in the table; npos: the client's own provider
  };

  // One call's way through the table, from the group it asked for.
  struct Plan {
    String first;  // the group the request named
    String group;  // the group tried now
    Vector<String> visited;
    Vector<std::size_t> failed;  // deployments that failed this call
    int tries = 0;               // in the current group
    double sticky = 0;           // its place in traffic splits
  };
  Plan plan(std::string_view model, const Options* call_options) const;

  // Admits the next try of `plan` to a deployment of its group: one not
  // yet failed in this call when there is one. Throws NOT_FOUND when
  // nothing serves the group, UNAVAILABLE when every circuit of the group
  // is open, RATE_LIMITED when every deployment is at its rpm or tpm.
  // `tokens` estimates the call, for tpm; it runs only when one is set.
  Target admit(Plan& plan, const std::function<std::int64_t()>& tokens);
  // Reports a try's end to its breaker, its load and its limiter (which
  // settles its tpm with `used`, the tokens the answer counted, when >= 0),
  // and marks a failed deployment in `plan`.
  void end(Plan& plan, const Target& target, llmkit_status status, int http_status,
           std::int64_t latency_us, std::int64_t used) noexcept;
  // Whether a deployment of the current group has not failed this call and
  // is not refusing calls: the next try may go now, without a backoff.
  bool fresh_left(const Plan& plan);
  // After the current group failed with `failure`: moves `plan` to the next
  // group a fallback rule names, and returns false when none applies.
  bool fall_back(Plan& plan, route::ErrorClass failure) const;

  // The provider a call for `model` most likely goes to (what before
  // hooks see): the client's own, or the group's first deployment's.
  std::string_view provider_of(std::string_view model) const;
  // The client's own provider's client, or null when it has none.
  client::Client* own() { return own_ ? &*own_ : nullptr; }
  std::string_view default_model() const;
  // The breaker of deployment `name` (or of a model of the client's own
  // provider); null before the first call to it, or when breakers are off.
  route::Breaker* breaker(std::string_view name);
  // Calls `fn(name, breaker)` for every breaker made so far (none when
  // breakers are off).
  template <class F>
  void for_each_breaker(F&& fn) {
    breakers_.for_each(std::forward<F>(fn));
  }
  const route::Deployment* deployment(std::string_view name) const;

 private:
  struct Live;
  // The deployments of `group` (or the one named so), empty when none:
  // indexed once, as every try asks.
  const Vector<std::size_t>& members(std::string_view group) const;
  void index_members();

  route::Strategy strategy_;
  route::Breakers breakers_;
  Vector<route::Fallback> fallbacks_;
  Vector<std::unique_ptr<Live>> table_;
  Vector<std::pair<String, Vector<std::size_t>>> members_;  // by group or name
  std::optional<client::Client> own_;
};

}  // namespace llmkit::pipeline
