// Reads a file of test/fixtures/ (LLMKIT_FIXTURES_DIR, set by the build).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace llmkit::test {

inline std::string fixture(const std::string& path) {
  std::ifstream in(std::string(LLMKIT_FIXTURES_DIR) + "/" + path, std::ios::binary);
  if (!in) throw std::runtime_error("no fixture " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace llmkit::test
