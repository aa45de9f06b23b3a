// Checks llmkit's tokenizer against cases that tiktoken encoded
// (test/tokenize/oracle/gen_cases.mjs; the file format is documented there).
// usage: llmkit_tokenize_diff ENCODING CASES_FILE
// Prints every mismatch (at most 10 in full) and "N passed, M failed".
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenize/catalog.h"

namespace {

bool read_u32(std::ifstream& in, std::uint32_t& v) {
  unsigned char b[4];
  if (!in.read(reinterpret_cast<char*>(b), 4)) return false;
  v = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  return true;
}

std::string ids_text(const std::vector<std::uint32_t>& ids) {
  std::string s;
  for (const std::uint32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s ENCODING CASES_FILE\n", argv[0]);
    return 2;
  }
  const auto& enc = llmkit::tokenize::encoding(argv[1]);
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", argv[2]);
    return 2;
  }
  std::size_t passed = 0, failed = 0;
  std::uint32_t len = 0;
  while (read_u32(in, len)) {
    std::string text(len, '\0');
    std::uint32_t n = 0;
    if (!in.read(text.data(), len) || !read_u32(in, n)) {
      std::fprintf(stderr, "truncated cases file\n");
      return 2;
    }
    std::vector<std::uint32_t> expected(n);
    for (auto& id : expected) {
      if (!read_u32(in, id)) {
        std::fprintf(stderr, "truncated cases file\n");
        return 2;
      }
    }
    std::vector<std::uint32_t> ids(text.size() + 1);
    std::string error;
    try {
      llmkit::tokenize::TokenOut out{ids.data(), ids.size(), 0};
      enc.encode(text, llmkit::tokenize::SpecialMode::kAsText, out);
      ids.resize(out.n);
    } catch (const llmkit::Error& e) {
      error = e.what();
    }
    if (error.empty() && ids == expected) {
      ++passed;
      continue;
    }
    if (++failed <= 10) {
      std::printf("MISMATCH %s case %zu\n  text:     %s\n  tiktoken: %s\n  llmkit:   %s\n", argv[1],
                  passed + failed - 1, llmkit::utf8::quote(text, 400).c_str(),
                  ids_text(expected).c_str(),
                  error.empty() ? ids_text(ids).c_str() : error.c_str());
    }
  }
  std::printf("%s: %zu passed, %zu failed\n", argv[1], passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
