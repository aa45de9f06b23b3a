// test/upstream/upstream.py, the fake provider, as a child process on a free
// loopback port. Failing to start it is an error, never a skip.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "support/process.h"

namespace llmkit::test {

class Upstream {
 public:
  Upstream()
      : process_({"/usr/bin/env", "python3", LLMKIT_FIXTURES_DIR "/../upstream/upstream.py"}) {
    const std::string line = process_.read_line();
    if (line.rfind("port ", 0) != 0) {
      throw std::runtime_error("upstream.py printed '" + line + "', not 'port N'");
    }
    port_ = std::stoi(line.substr(5));
  }
  int port() const { return port_; }
  std::string url(std::string_view path = {}) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  // The POSTs it has logged, in order: a JSON array of {"method", "path",
  // "query", "headers", "body"}.
  std::string requests() const { return control("GET"); }
  void clear_requests() const { control("DELETE"); }
  // How many POSTs it has logged.
  std::size_t requests_sent() const {
    const std::string log = requests();
    std::size_t n = 0;
    for (auto at = log.find("\"path\""); at != std::string::npos; at = log.find("\"path\"", at + 1))
      ++n;
    return n;
  }

 private:
  std::string control(const char* method) const {
    std::string body;
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url("/_upstream/requests").c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char* p, size_t, size_t n, void* out) {
          static_cast<std::string*>(out)->append(p, n);
          return n;
        });
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    const CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
      throw std::runtime_error("upstream.py's request log: " + std::string(curl_easy_strerror(rc)));
    return body;
  }

  Process process_;
  int port_ = 0;
};

}  // namespace llmkit::test
