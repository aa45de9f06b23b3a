// Resident memory after loading each encoding, in one process, in order.
#include <cstdio>
#include <fstream>
#include <string>

#include "tokenize/catalog.h"

namespace {

long rss_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int main() {
  long before = rss_kib();
  std::printf("%-12s %12s %14s\n", "encoding", "RSS +KiB", "held bytes");
  for (const auto name : llmkit::tokenize::encoding_names()) {
    const auto& enc = llmkit::tokenize::encoding(name);
    const long now = rss_kib();
    std::printf("%-12.*s %12ld %14zu\n", static_cast<int>(name.size()), name.data(), now - before,
                enc.memory_bytes());
    before = now;
  }
}
