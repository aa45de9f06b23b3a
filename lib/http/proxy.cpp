#include "http/proxy.h"

#include <initializer_list>

namespace llmkit::http {

Proxies Proxies::of(std::string_view configured,
                    const std::function<const char*(const char*)>& env) {
  // The first of `names` that is set (even to ""), "" when none is.
  const auto first = [&](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (const char* v = env ? env(name) : nullptr; v != nullptr) return make_string(v);
    }
    return String();
  };
  Proxies p;
  p.no_proxy = first({"no_proxy", "NO_PROXY"});
  if (!configured.empty()) {
    p.http = make_string(configured);
    p.https = p.http;
    return p;
  }
  p.http = first({"http_proxy", "all_proxy", "ALL_PROXY"});
  p.https = first({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
  return p;
}

}  // namespace llmkit::http
