// Exact parity with tiktoken on the committed corpus: the ids in
// test/fixtures/tokenize/golden/<encoding>/ were produced by tiktoken itself
// (npm tiktoken 1.0.22, scripts/make-tokenize-goldens.mjs).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenize/catalog.h"

namespace fs = std::filesystem;
using llmkit::tokenize::Encoding;
using llmkit::tokenize::SpecialMode;
using llmkit::tokenize::TokenOut;

namespace {

const fs::path kFixtures = LLMKIT_FIXTURES_DIR "/tokenize";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::uint32_t> read_ids(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::uint32_t> ids;
  for (std::uint32_t id = 0; in >> id;) ids.push_back(id);
  return ids;
}

std::vector<std::uint32_t> encode(const Encoding& enc, const std::string& text, SpecialMode mode) {
  std::vector<std::uint32_t> ids(text.size() + 1);
  TokenOut out{ids.data(), ids.size(), 0};
  enc.encode(text, mode, out);
  ids.resize(out.n);
  return ids;
}

// Index of the first difference, for a readable failure.
std::size_t first_difference(const std::vector<std::uint32_t>& a,
                             const std::vector<std::uint32_t>& b) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

class Golden : public testing::TestWithParam<std::string> {};

TEST_P(Golden, EveryCorpusFileMatchesTiktoken) {
  const Encoding& enc = llmkit::tokenize::encoding(GetParam());
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kFixtures / "golden" / GetParam())) {
    const std::string stem = entry.path().stem().string();
    const fs::path corpus = kFixtures / "corpus" / (stem + ".txt");
    if (!fs::exists(corpus)) continue;  // the special-token goldens, below
    ++files;
    const std::string text = read_file(corpus);
    const auto expected = read_ids(entry.path());
    const auto ids = encode(enc, text, SpecialMode::kAsText);
    ASSERT_EQ(ids.size(), expected.size())
        << stem << ": first difference at token " << first_difference(ids, expected);
    ASSERT_EQ(ids, expected) << stem << ": first difference at token "
                             << first_difference(ids, expected);
    EXPECT_EQ(enc.count(text, SpecialMode::kAsText), ids.size()) << stem;
    std::string back(text.size(), '\0');
    ASSERT_EQ(enc.decode(ids, back.data(), back.size()), text.size()) << stem;
    EXPECT_EQ(back, text) << stem;
  }
  EXPECT_GE(files, 5);
}

TEST_P(Golden, SpecialTokensMatchTiktokenAllowedAndOrdinary) {
  const Encoding& enc = llmkit::tokenize::encoding(GetParam());
  const std::string text = read_file(kFixtures / "special.txt");
  const fs::path dir = kFixtures / "golden" / GetParam();
  EXPECT_EQ(encode(enc, text, SpecialMode::kAllow), read_ids(dir / "special_all.ids"));
  EXPECT_EQ(encode(enc, text, SpecialMode::kAsText), read_ids(dir / "special_ordinary.ids"));
}

INSTANTIATE_TEST_SUITE_P(Tokenize, Golden,
                         testing::Values("cl100k_base", "o200k_base", "p50k_base", "r50k_base"));

}  // namespace
