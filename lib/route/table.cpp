#include "route/table.h"

#include <simdjson.h>

#include <cmath>
#include <set>
#include <string>

#include "core/error.h"
#include "core/json.h"
#include "core/text_file.h"
#include "core/utf8.h"

namespace llmkit::route {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// The client options a deployment takes from the client itself, unless it
// sets its own: how long to wait and what to send, not where.
constexpr std::string_view kInherited[] = {"timeout.", "header.", "anthropic.version",
                                           "embeddings.concurrency"};
struct ClassName {
  std::string_view name;
  unsigned bits;
};
constexpr ClassName kClasses[] = {{"rate_limited", kRateLimited},
                                  {"overloaded", kOverloaded},
                                  {"server", kServer},
                                  {"network", kNetwork},
                                  {"timeout", kTimeout},
                                  {"unavailable", kUnavailable},
                                  {"context_length", kContextLength},
                                  {"auth", kAuth},
                                  {"bad_request", kBadRequest},
                                  {"any", ~0U}};

[[noreturn]] void bad(const std::string& where, const std::string& problem) {
  fail(LLMKIT_INVALID_ARGUMENT, where + ": " + problem);
}

// The option's JSON: an array of `items`.
simdjson::dom::array read_array(simdjson::dom::parser& parser, const String& text,
                                std::string_view option, std::string_view items) {
  const std::string what = "\"" + std::string(option) + "\"";
  simdjson::dom::array list;
  if (json::parse(parser, text, what).get_array().get(list)) {
    bad(what, "must be a JSON array of " + std::string(items));
  }
  return list;
}

std::string_view string_of(element e, const std::string& where, std::string_view member) {
  std::string_view s;
  if (e.get_string().get(s) || s.empty()) {
    bad(where, "\"" + std::string(member) + "\" must be a non-empty string");
  }
  return s;
}

// An option's value as text: options are strings; JSON numbers and
// booleans are taken as written.
String option_text(element e, const std::string& where, std::string_view member) {
  switch (e.type()) {
    case element_type::STRING:
      return make_string(std::string_view(e.get_string().value_unsafe()));
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
    case element_type::BOOL:
      return make_string(simdjson::to_string(e));
    default:
      bad(where, "\"" + std::string(member) + "\" must be a string, a number or a boolean");
  }
}

std::int64_t int_of(element e, const std::string& where, std::string_view member, std::int64_t min,
                    std::int64_t max) {
  std::int64_t v = 0;
  if (e.get_int64().get(v) || v < min || v > max) {
    bad(where, "\"" + std::string(member) + "\" must be an integer from " + std::to_string(min) +
                   " to " + std::to_string(max));
  }
  return v;
}

Deployment read_one(element e, std::size_t index, const Options& inherited,
                    std::span<const std::string_view> own) {
  std::string where = "deployment " + std::to_string(index + 1);
  simdjson::dom::object o;
  if (e.get_object().get(o)) bad(where, "must be a JSON object");
  Deployment d;
  inherited.for_each("", [&](std::string_view key, std::string_view value) {
    if (Options::is_known(kInherited, key)) d.options.set(key, value);
  });
  // The name first, so every later message names the deployment.
  if (element name; !o.at_key("name").get(name)) {
    d.name = make_string(string_of(name, where, "name"));
    where = "deployment " + utf8::quote(d.name);
  } else {
    bad(where, "\"name\" is missing");
  }
  for (const auto field : o) {
    const std::string_view key = field.key;
    if (key == "name") continue;
    if (key == "group") {
      d.group = make_string(string_of(field.value, where, key));
    } else if (key == "weight") {
      d.weight = int_of(field.value, where, key, 1, 1'000'000);
    } else if (key == "split") {
      double v = 0;
      if (field.value.get_double().get(v) || !(v > 0 && v <= 100)) {
        bad(where, "\"split\" must be a percentage above 0, at most 100");
      }
      d.split = v;
    } else if (key == "rpm") {
      d.rpm = int_of(field.value, where, key, 0, std::int64_t{1} << 40);
    } else if (key == "tpm") {
      d.tpm = int_of(field.value, where, key, 0, std::int64_t{1} << 40);
    } else if (key == "api_key_env") {
      d.api_key_env = make_string(string_of(field.value, where, key));
    } else if (Options::is_known(own, key)) {
      try {
        d.options.set(key, option_text(field.value, where, key));
      } catch (const Error& err) {
        bad(where, err.what());
      }
    } else {
      std::string members = "name, group, weight, split, rpm, tpm, api_key_env";
      for (const std::string_view name : own) {
        members += ", " + std::string(name) + (name.ends_with('.') ? "*" : "");
      }
      bad(where, "unknown member " + utf8::quote(key) + " (a deployment takes " + members + ")");
    }
  }
  if (d.options.find("provider") == nullptr) bad(where, "\"provider\" is missing");
  const String* model = d.options.find("model");
  if (model == nullptr) bad(where, "\"model\" is missing");
  d.model = *model;
  if (d.group.empty()) d.group = d.model;
  return d;
}

}  // namespace

ErrorClass error_class(llmkit_status status, int http_status, std::string_view detail) noexcept {
  if (detail == "context_length_exceeded") return kContextLength;
  switch (status) {
    case LLMKIT_RATE_LIMITED:
      return kRateLimited;
    case LLMKIT_OVERLOADED:
      return kOverloaded;
    case LLMKIT_NETWORK:
      return kNetwork;
    case LLMKIT_TIMEOUT:
      return kTimeout;
    case LLMKIT_UNAVAILABLE:
      return kUnavailable;
    case LLMKIT_AUTH:
      return kAuth;
    case LLMKIT_PROVIDER_ERROR:
      if (http_status >= 500) return kServer;
      return http_status >= 400 ? kBadRequest : kOther;
    case LLMKIT_INVALID_ARGUMENT:
    case LLMKIT_NOT_FOUND:
    case LLMKIT_UNSUPPORTED:
      return http_status >= 400 ? kBadRequest : kOther;
    default:
      return kOther;
  }
}

Vector<Deployment> read_deployments(std::string_view json_or_path, const Options& inherited,
                                    std::span<const std::string_view> own) {
  simdjson::dom::parser parser;
  const String text = json_text_or_file(json_or_path, "deployments");
  Vector<Deployment> out;
  std::size_t i = 0;
  for (const element e : read_array(parser, text, "deployments", "objects")) {
    out.push_back(read_one(e, i++, inherited, own));
  }
  std::set<std::string_view> names;
  for (const Deployment& d : out) {
    if (!names.insert(d.name).second) {
      bad("\"deployments\"", "two deployments are named " + utf8::quote(d.name));
    }
  }
  if (out.empty()) bad("\"deployments\"", "the list is empty");
  return out;
}

Vector<Fallback> read_fallbacks(std::string_view json_or_path) {
  simdjson::dom::parser parser;
  const String text = json_text_or_file(json_or_path, "fallbacks");
  Vector<Fallback> out;
  for (const element e : read_array(parser, text, "fallbacks", "rules")) {
    const std::string where = "fallback rule " + std::to_string(out.size() + 1);
    simdjson::dom::object o;
    if (e.get_object().get(o)) bad(where, "must be a JSON object");
    Fallback f;
    for (const auto field : o) {
      const std::string_view key = field.key;
      simdjson::dom::array items;
      if (key == "from") {
        f.from = make_string(string_of(field.value, where, key));
      } else if (key == "to" || key == "on") {
        if (field.value.get_array().get(items) || items.size() == 0) {
          bad(where, "\"" + std::string(key) + "\" must be a non-empty array of strings");
        }
        if (key == "on") f.on = 0;
        for (const element item : items) {
          const std::string_view s = string_of(item, where, key);
          if (key == "to") {
            f.to.push_back(make_string(s));
            continue;
          }
          unsigned bits = 0;
          for (const ClassName& c : kClasses) {
            if (c.name == s) bits = c.bits;
          }
          if (bits == 0) {
            bad(where, "unknown error class " + utf8::quote(s) +
                           " (rate_limited, overloaded, server, network, timeout, unavailable, "
                           "context_length, auth, bad_request, any)");
          }
          f.on |= bits;
        }
      } else {
        bad(where, "unknown member " + utf8::quote(key) + " (a rule takes from, to, on)");
      }
    }
    if (f.from.empty()) bad(where, "\"from\" is missing");
    if (f.to.empty()) bad(where, "\"to\" is missing");
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace llmkit::route
