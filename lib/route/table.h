// The routing table of a client (docs/routing.md): its deployments, read
// from the "deployments" option, and its fallback rules, from "fallbacks".
// Both options take JSON text or the path of a JSON file.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/alloc.h"
#include "llmkit.h"
#include "options/options.h"

namespace llmkit::route {

// One place a call can go: a provider, its base URL and key, and a model.
struct Deployment {
  String name;              // unique in the client: breakers, stats and answers name it
  String group;             // what requests ask for ("model"); its model by default
  String model;             // what the provider is asked for
  std::int64_t weight = 1;  // share of its group's calls, against the others'
  double split = 0;         // > 0: this percentage of the group's calls, sticky per "route.key"
  std::int64_t rpm = 0;     // requests a minute it may be sent; 0: no limit
  std::int64_t tpm = 0;     // tokens a minute (estimated, then settled); 0: no limit
  String api_key_env;       // the variable its key comes from, when not in options
  Options options;          // its client's: provider, base_url, api_key, model, ...
};

// Why a call failed, as fallback rules name it.
enum ErrorClass : unsigned {
  kRateLimited = 1U << 0,    // "rate_limited": a 429, or a local limit
  kOverloaded = 1U << 1,     // "overloaded": a 503 or 529
  kServer = 1U << 2,         // "server": another 5xx
  kNetwork = 1U << 3,        // "network"
  kTimeout = 1U << 4,        // "timeout"
  kUnavailable = 1U << 5,    // "unavailable": every deployment's circuit is open
  kContextLength = 1U << 6,  // "context_length": the prompt does not fit the model
  kAuth = 1U << 7,           // "auth"
  kBadRequest = 1U << 8,     // "bad_request": another 4xx
  kOther = 1U << 9,          // anything else ("any" covers it)
};
// What a rule without "on" falls back on: what another deployment may not meet.
inline constexpr unsigned kTransient =
    kRateLimited | kOverloaded | kServer | kNetwork | kTimeout | kUnavailable;

// The class of a failed call; `detail` is the answer's ("context_length_exceeded").
ErrorClass error_class(llmkit_status status, int http_status, std::string_view detail) noexcept;

// After a call to group `from` failed with a class in `on`, the groups (or
// deployments) of `to` are tried in order.
struct Fallback {
  String from;  // a group, a deployment name, or "*": any
  Vector<String> to;
  unsigned on = kTransient;
};

// INVALID_ARGUMENT naming the deployment and member for malformed JSON, a
// missing "name", "provider" or "model", a duplicate name, a bad number or
// a member a deployment does not take. `inherited` holds the client's own
// options that every deployment starts from (timeouts, headers); `own`
// the client options a deployment may set (client::endpoint_options()).
Vector<Deployment> read_deployments(std::string_view json_or_path, const Options& inherited,
                                    std::span<const std::string_view> own);
Vector<Fallback> read_fallbacks(std::string_view json_or_path);

}  // namespace llmkit::route
