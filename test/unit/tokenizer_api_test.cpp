// The token-counting C API as a caller sees it: handles, buffers, modes,
// errors. Exactness against tiktoken is test/tokenize/ (goldens, fuzz).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "llmkit.h"

namespace {

struct Tok {
  llmkit_tokenizer* t = nullptr;
  explicit Tok(const char* name) { EXPECT_EQ(llmkit_tokenizer_new(name, &t), LLMKIT_OK); }
  ~Tok() { llmkit_tokenizer_free(t); }
};

std::vector<uint32_t> encode(const Tok& tok, const std::string& s, llmkit_special_mode mode) {
  std::vector<uint32_t> ids(s.size() + 1);
  size_t n = 0;
  EXPECT_EQ(llmkit_tokenizer_encode(tok.t, s.data(), s.size(), mode, ids.data(), ids.size(), &n),
            LLMKIT_OK)
      << llmkit_last_error();
  ids.resize(n);
  return ids;
}

std::string decode(const Tok& tok, const std::vector<uint32_t>& ids) {
  size_t len = 0;
  EXPECT_EQ(llmkit_tokenizer_decode(tok.t, ids.data(), ids.size(), nullptr, 0, &len), LLMKIT_OK);
  std::string out(len, '\0');
  EXPECT_EQ(llmkit_tokenizer_decode(tok.t, ids.data(), ids.size(), out.data(), len, &len),
            LLMKIT_OK);
  return out;
}

}  // namespace

TEST(TokenizerApi, KnowsTheFourEncodingsAndTheirSizes) {
  const std::pair<const char*, size_t> expected[] = {
      {"cl100k_base", 100277}, {"o200k_base", 200019}, {"p50k_base", 50281}, {"r50k_base", 50257}};
  for (const auto& [name, n_vocab] : expected) {
    Tok tok(name);
    EXPECT_STREQ(llmkit_tokenizer_name(tok.t), name);
    size_t n = 0;
    ASSERT_EQ(llmkit_tokenizer_n_vocab(tok.t, &n), LLMKIT_OK);
    EXPECT_EQ(n, n_vocab) << name;
  }
  llmkit_tokenizer* t = nullptr;
  EXPECT_EQ(llmkit_tokenizer_new("gpt2_base", &t), LLMKIT_NOT_FOUND);
  EXPECT_NE(std::strstr(llmkit_last_error(), "known: cl100k_base, o200k_base"), nullptr);
  EXPECT_EQ(t, nullptr);
}

TEST(TokenizerApi, EncodeDecodeRoundTripsAndCountAgrees) {
  Tok tok("o200k_base");
  const std::string text = "Hello, wörld! 你好 👩‍💻 don't  stop\n\n  123456";
  const auto ids = encode(tok, text, LLMKIT_SPECIAL_DISALLOW);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(decode(tok, ids), text);
  size_t count = 0;
  ASSERT_EQ(
      llmkit_tokenizer_count(tok.t, text.data(), text.size(), LLMKIT_SPECIAL_DISALLOW, &count),
      LLMKIT_OK);
  EXPECT_EQ(count, ids.size());
  size_t n = 0;  // ids == NULL: count only
  ASSERT_EQ(llmkit_tokenizer_encode(tok.t, text.data(), text.size(), LLMKIT_SPECIAL_DISALLOW,
                                    nullptr, 0, &n),
            LLMKIT_OK);
  EXPECT_EQ(n, ids.size());
}

TEST(TokenizerApi, EmptyTextHasNoTokensAndNullIsOnlyFineWhenEmpty) {
  Tok tok("cl100k_base");
  size_t count = 99;
  EXPECT_EQ(llmkit_tokenizer_count(tok.t, nullptr, 0, LLMKIT_SPECIAL_DISALLOW, &count), LLMKIT_OK);
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(llmkit_tokenizer_count(tok.t, nullptr, 3, LLMKIT_SPECIAL_DISALLOW, &count),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "text is NULL");
}

TEST(TokenizerApi, TooSmallBuffersReportTheSizeNeeded) {
  Tok tok("cl100k_base");
  const std::string text = "one two three four";
  uint32_t ids[2];
  size_t n = 0;
  EXPECT_EQ(
      llmkit_tokenizer_encode(tok.t, text.data(), text.size(), LLMKIT_SPECIAL_DISALLOW, ids, 2, &n),
      LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(n, 4u);
  EXPECT_NE(std::strstr(llmkit_last_error(), "room for 2 tokens, the text needs 4"), nullptr);

  const auto all = encode(tok, text, LLMKIT_SPECIAL_DISALLOW);
  char buf[4];
  size_t len = 0;
  EXPECT_EQ(llmkit_tokenizer_decode(tok.t, all.data(), all.size(), buf, sizeof buf, &len),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(len, text.size());
}

TEST(TokenizerApi, SpecialTokensFollowTheChosenMode) {
  Tok tok("cl100k_base");
  const std::string text = "a<|endoftext|>b";
  size_t n = 0;
  EXPECT_EQ(llmkit_tokenizer_count(tok.t, text.data(), text.size(), LLMKIT_SPECIAL_DISALLOW, &n),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "'<|endoftext|>' at byte offset 1"), nullptr)
      << llmkit_last_error();

  const auto allowed = encode(tok, text, LLMKIT_SPECIAL_ALLOW);
  ASSERT_EQ(allowed.size(), 3u);
  EXPECT_EQ(allowed[1], 100257u);  // <|endoftext|> in cl100k_base
  const auto as_text = encode(tok, text, LLMKIT_SPECIAL_AS_TEXT);
  EXPECT_GT(as_text.size(), 3u);
  EXPECT_EQ(decode(tok, allowed), text);
  EXPECT_EQ(decode(tok, as_text), text);

  EXPECT_EQ(llmkit_tokenizer_count(tok.t, "x", 1, static_cast<llmkit_special_mode>(3), &n),
            LLMKIT_INVALID_ARGUMENT);
}

TEST(TokenizerApi, InvalidUtf8IsRejectedWithItsOffset) {
  Tok tok("o200k_base");
  const std::string text = "fine \xE2\x82 broken";
  size_t n = 0;
  EXPECT_EQ(llmkit_tokenizer_count(tok.t, text.data(), text.size(), LLMKIT_SPECIAL_AS_TEXT, &n),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "byte offset 5"), nullptr) << llmkit_last_error();
}

TEST(TokenizerApi, UnknownIdsAreNamed) {
  Tok tok("r50k_base");
  const uint32_t ids[] = {15496, 50257};
  size_t len = 0;
  EXPECT_EQ(llmkit_tokenizer_decode(tok.t, ids, 2, nullptr, 0, &len), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "token id 50257 (at index 1) is not in r50k_base");
}

TEST(TokenizerApi, ModelsMapToTheirEncodings) {
  const std::pair<const char*, const char*> cases[] = {
      {"gpt-4o", "o200k_base"},
      {"gpt-4o-2024-08-06", "o200k_base"},
      {"gpt-4.1-mini", "o200k_base"},
      {"gpt-5", "o200k_base"},
      {"o3-mini", "o200k_base"},
      {"ft:gpt-4o-mini:org:x:1", "o200k_base"},
      {"gpt-4", "cl100k_base"},
      {"gpt-4-0613", "cl100k_base"},
      {"gpt-3.5-turbo-16k", "cl100k_base"},
      {"text-embedding-3-small", "cl100k_base"},
      {"text-davinci-003", "p50k_base"},
      {"davinci", "r50k_base"},
  };
  for (const auto& [model, expected] : cases) {
    const char* enc = nullptr;
    ASSERT_EQ(llmkit_encoding_for_model(model, &enc), LLMKIT_OK) << model << llmkit_last_error();
    EXPECT_STREQ(enc, expected) << model;
  }
  const char* enc = nullptr;
  EXPECT_EQ(llmkit_encoding_for_model("claude-3-5-sonnet", &enc), LLMKIT_NOT_FOUND);
  EXPECT_NE(std::strstr(llmkit_last_error(), "llmkit_estimate_tokens"), nullptr);
}

TEST(TokenizerApi, CountTokensByModelAndEstimatesAreLabelled) {
  const std::string text = "The quick brown fox";
  size_t exact = 0, est = 0;
  int is_exact = -1;
  ASSERT_EQ(llmkit_count_tokens("gpt-4o", text.data(), text.size(), &exact), LLMKIT_OK);
  ASSERT_EQ(llmkit_estimate_tokens("gpt-4o", text.data(), text.size(), &est, &is_exact), LLMKIT_OK);
  EXPECT_EQ(est, exact);
  EXPECT_EQ(is_exact, 1);
  ASSERT_EQ(llmkit_estimate_tokens("anthropic/claude-sonnet-4", text.data(), text.size(), &est,
                                   &is_exact),
            LLMKIT_OK);
  EXPECT_EQ(is_exact, 0);
  EXPECT_EQ(est, exact);  // the o200k_base count
  ASSERT_EQ(llmkit_estimate_tokens("gemini-2.5-pro", text.data(), text.size(), &est, nullptr),
            LLMKIT_OK);
  EXPECT_EQ(llmkit_count_tokens("claude-3-opus", text.data(), text.size(), &exact),
            LLMKIT_NOT_FOUND);
  EXPECT_EQ(llmkit_estimate_tokens("llama-3", text.data(), text.size(), &est, nullptr),
            LLMKIT_NOT_FOUND);
}

TEST(TokenizerApi, BatchCountsMatchSingleCountsAndNameTheFailingText) {
  Tok tok("cl100k_base");
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(std::string(static_cast<size_t>(i), 'a') + " b c");
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& t : texts) {
    ptrs.push_back(t.data());
    lens.push_back(t.size());
  }
  std::vector<size_t> counts(texts.size());
  ASSERT_EQ(llmkit_tokenizer_count_batch(tok.t, ptrs.data(), lens.data(), texts.size(),
                                         LLMKIT_SPECIAL_DISALLOW, counts.data()),
            LLMKIT_OK);
  for (size_t i = 0; i < texts.size(); ++i) {
    size_t one = 0;
    ASSERT_EQ(llmkit_tokenizer_count(tok.t, ptrs[i], lens[i], LLMKIT_SPECIAL_DISALLOW, &one),
              LLMKIT_OK);
    EXPECT_EQ(counts[i], one) << i;
  }
  texts[7] = "bad \xFF";
  texts[9] = "also bad \xFF";
  ptrs[7] = texts[7].data();
  lens[7] = texts[7].size();
  ptrs[9] = texts[9].data();
  lens[9] = texts[9].size();
  EXPECT_EQ(llmkit_tokenizer_count_batch(tok.t, ptrs.data(), lens.data(), texts.size(),
                                         LLMKIT_SPECIAL_DISALLOW, counts.data()),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "text 7: "), nullptr) << llmkit_last_error();
  EXPECT_GT(counts[8], 0u);  // the others are still counted
}

TEST(TokenizerApi, ManyThreadsShareOneTokenizer) {
  Tok tok("o200k_base");
  const std::string text = "Concurrency is not parallelism. 并发不是并行。 ";
  const auto expected = encode(tok, text, LLMKIT_SPECIAL_DISALLOW);
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) ok[t] += encode(tok, text, LLMKIT_SPECIAL_DISALLOW) == expected;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(ok[t], 200);
}

TEST(TokenizerApi, NullHandlesAndOutPointers) {
  size_t n = 0;
  EXPECT_EQ(llmkit_tokenizer_new(nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_tokenizer_count(nullptr, "a", 1, LLMKIT_SPECIAL_DISALLOW, &n),
            LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "tokenizer is NULL");
  EXPECT_EQ(llmkit_tokenizer_n_vocab(nullptr, &n), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_tokenizer_name(nullptr), nullptr);
  EXPECT_EQ(llmkit_count_tokens(nullptr, "a", 1, &n), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_count_tokens_chat("gpt-4o", nullptr, 0, nullptr, 0, nullptr),
            LLMKIT_INVALID_ARGUMENT);
  llmkit_tokenizer_free(nullptr);
}
