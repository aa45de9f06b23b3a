// The proxies a transport's transfers go through, settled once, as a
// client is made: the "proxy" option, or else the environment variables
// libcurl reads, with its precedence (lower case first; http_proxy has no
// upper-case form, as a CGI program's HTTP_PROXY is a request header).
// Left to libcurl, the environment is read on every transfer: five getenv
// calls and 2k instructions of a 102k-instruction call
// (bench/pipeline_instructions.sh under callgrind).
#pragma once

#include <functional>
#include <string_view>

#include "core/alloc.h"

namespace llmkit::http {

struct Proxies {
  String http;      // for http:// URLs; empty: none
  String https;     // for https:// URLs; empty: none
  String no_proxy;  // hosts never proxied, as CURLOPT_NOPROXY reads them

  // `configured` (the "proxy" option) for every URL when not empty;
  // otherwise http_proxy, https_proxy or HTTPS_PROXY, all_proxy or
  // ALL_PROXY. no_proxy or NO_PROXY either way. `env` returns NULL for an
  // unset variable; an empty `env` reads none.
  static Proxies of(std::string_view configured,
                    const std::function<const char*(const char*)>& env);
};

}  // namespace llmkit::http
