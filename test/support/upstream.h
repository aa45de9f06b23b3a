// test/upstream/upstream.py, the fake provider, as a child process on a free
// loopback port. Failing to start it is an error, never a skip.
#pragma once

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

 private:
  Process process_;
  int port_ = 0;
};

}  // namespace llmkit::test
