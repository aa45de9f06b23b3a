// Embeddings cached per input, through the C API: only misses go upstream,
// and the answer comes back whole, in the caller's order.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "llmkit.h"
#include "support/fixture.h"

namespace {

std::string fixture(const std::string& name) {
  return llmkit::test::fixture("openai/" + name);
}

std::string request_of(const std::vector<std::string>& inputs) {
  std::string r = R"({"model":"text-embedding-3-small","dimensions":4,"input":[)";
  for (std::size_t i = 0; i < inputs.size(); ++i) r += (i ? ",\"" : "\"") + inputs[i] + "\"";
  return r + "]}";
}

// A fake provider: the embedding of "text-<n>" is [n]. It answers in
// reverse order, with "index", as providers may.
std::string upstream_answer(const std::string& request, std::vector<std::string>* asked) {
  simdjson::dom::parser p;
  const auto doc = p.parse(request);
  std::vector<std::string> inputs;
  for (const auto e : doc["input"].get_array()) inputs.emplace_back(std::string_view(e));
  *asked = inputs;
  std::string out = R"({"object":"list","data":[)";
  for (std::size_t i = inputs.size(); i-- > 0;) {
    out += R"({"object":"embedding","index":)" + std::to_string(i) + R"(,"embedding":[)" +
           inputs[i].substr(5) + "]}" + (i ? "," : "");
  }
  const std::string tokens = std::to_string(inputs.size() * 2);
  return out + R"(],"model":"text-embedding-3-small","usage":{"prompt_tokens":)" + tokens +
         R"(,"total_tokens":)" + tokens + "}}";
}

class CacheEmbeddings : public ::testing::Test {
 protected:
  void SetUp() override {
    llmkit_options* o = nullptr;
    ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
    ASSERT_EQ(llmkit_cache_new(o, &cache_), LLMKIT_OK);
    llmkit_options_free(o);
  }
  void TearDown() override { llmkit_cache_free(cache_); }

  // One batch end to end; returns the merged answer.
  std::string run(const std::string& request, std::vector<std::string>* asked) {
    llmkit_embeddings* batch = nullptr;
    EXPECT_EQ(
        llmkit_embeddings_new(cache_, "tenant", "openai", request.data(), request.size(), &batch),
        LLMKIT_OK)
        << llmkit_last_error();
    size_t misses = 0;
    const char* up = nullptr;
    size_t up_len = 0;
    EXPECT_EQ(llmkit_embeddings_upstream(batch, &misses, &up, &up_len), LLMKIT_OK);
    std::string answer;
    asked->clear();
    if (misses != 0) answer = upstream_answer(std::string(up, up_len), asked);
    EXPECT_EQ(misses, asked->size());
    const char* out = nullptr;
    size_t out_len = 0;
    EXPECT_EQ(llmkit_embeddings_complete(batch, answer.empty() ? nullptr : answer.data(),
                                         answer.size(), 0, &out, &out_len),
              LLMKIT_OK)
        << llmkit_last_error();
    std::string merged(out, out_len);
    llmkit_embeddings_free(batch);
    return merged;
  }

  llmkit_cache* cache_ = nullptr;
};

TEST_F(CacheEmbeddings, OnlyMissesGoUpstreamAndTheOrderIsKept) {
  std::vector<std::string> all;
  for (int i = 0; i < 100; ++i) all.push_back("text-" + std::to_string(i));
  std::vector<std::string> warm;  // 60 of the 100, every 5th skipped twice over
  for (int i = 0; i < 100; ++i) {
    if (i % 5 < 3) warm.push_back(all[static_cast<std::size_t>(i)]);
  }
  ASSERT_EQ(warm.size(), 60u);
  std::vector<std::string> asked;
  run(request_of(warm), &asked);
  EXPECT_EQ(asked.size(), 60u);

  const std::string merged = run(request_of(all), &asked);
  ASSERT_EQ(asked.size(), 40u);
  for (std::size_t i = 1; i < asked.size(); ++i) {  // misses in their original order
    EXPECT_LT(std::stoi(asked[i - 1].substr(5)), std::stoi(asked[i].substr(5)));
  }
  simdjson::dom::parser p;
  const auto doc = p.parse(merged);
  std::size_t i = 0;
  for (const auto item : doc["data"].get_array()) {
    EXPECT_EQ(std::uint64_t(item["index"]), i);
    EXPECT_EQ(std::int64_t(item["embedding"].at(0)), static_cast<std::int64_t>(i));
    ++i;
  }
  EXPECT_EQ(i, 100u);
  EXPECT_EQ(std::uint64_t(doc["usage"]["prompt_tokens"]), 80u);  // what the misses cost

  uint64_t hits = 0;
  ASSERT_EQ(llmkit_cache_stat(cache_, "hits", &hits), LLMKIT_OK);
  EXPECT_EQ(hits, 60u);
}

TEST_F(CacheEmbeddings, AllHitsNeedNoUpstreamCall) {
  std::vector<std::string> asked;
  run(request_of({"text-1", "text-2"}), &asked);
  const std::string merged = run(request_of({"text-2", "text-1", "text-2"}), &asked);
  EXPECT_TRUE(asked.empty());
  EXPECT_NE(merged.find(R"("index":0,"embedding":[2])"), std::string::npos) << merged;
  EXPECT_NE(merged.find(R"("index":1,"embedding":[1])"), std::string::npos) << merged;
  EXPECT_NE(merged.find(R"("usage":{"prompt_tokens":0,"total_tokens":0})"), std::string::npos);
}

TEST_F(CacheEmbeddings, ParametersPartitionTheInputsAndTagsDoNot) {
  std::vector<std::string> asked;
  run(request_of({"text-1"}), &asked);
  std::string other = request_of({"text-1"});
  other.replace(other.find("\"dimensions\":4"), 14, "\"dimensions\":8");
  run(other, &asked);
  EXPECT_EQ(asked.size(), 1u);
  // "user" cannot change an embedding: still a hit.
  std::string tagged = request_of({"text-1"});
  tagged.insert(1, R"("user":"u-7",)");
  run(tagged, &asked);
  EXPECT_TRUE(asked.empty());
}

TEST_F(CacheEmbeddings, AProviderAnswerIsTakenAsDocumented) {
  const std::string request = request_of({"a", "b", "c"});
  llmkit_embeddings* batch = nullptr;
  ASSERT_EQ(
      llmkit_embeddings_new(cache_, nullptr, "openai", request.data(), request.size(), &batch),
      LLMKIT_OK);
  const std::string answer = fixture("embeddings_3.json");
  const char* out = nullptr;
  size_t len = 0;
  ASSERT_EQ(llmkit_embeddings_complete(batch, answer.data(), answer.size(), 0, &out, &len),
            LLMKIT_OK)
      << llmkit_last_error();
  const std::string merged(out, len);
  EXPECT_NE(merged.find(R"("index":2,"embedding":[-0.5,0.25,0.125,-0.0625])"), std::string::npos)
      << merged;
  EXPECT_NE(merged.find(R"("usage":{"prompt_tokens":8,"total_tokens":8})"), std::string::npos);
  llmkit_embeddings_free(batch);
}

TEST_F(CacheEmbeddings, BadAnswersAndRequestsAreErrors) {
  const std::string request = request_of({"a", "b"});
  llmkit_embeddings* batch = nullptr;
  ASSERT_EQ(llmkit_embeddings_new(cache_, "", "openai", request.data(), request.size(), &batch),
            LLMKIT_OK);
  const char* out = nullptr;
  size_t len = 0;
  for (const std::string& bad :
       {std::string(R"({"data":[{"index":0,"embedding":[1]}]})"),  // one for two
        std::string(R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]})"),
        std::string(R"({"data":[{"index":0,"embedding":[1]},{"index":5,"embedding":[2]}]})"),
        std::string(R"({"data":[{"index":0},{"index":1}]})"),
        std::string(R"({"error":{"message":"Rate limit","type":"requests"}})"),
        std::string(R"({"data":[)")}) {
    EXPECT_EQ(llmkit_embeddings_complete(batch, bad.data(), bad.size(), 0, &out, &len),
              LLMKIT_PROVIDER_ERROR)
        << bad;
    EXPECT_NE(std::string(llmkit_last_error()), "");
  }
  EXPECT_EQ(llmkit_embeddings_complete(batch, nullptr, 0, 0, &out, &len), LLMKIT_INVALID_ARGUMENT);
  llmkit_embeddings_free(batch);

  for (const std::string& bad :
       {std::string(R"({"model":"m"})"), std::string(R"({"input":[]})"),
        std::string(R"({"input":[{"x":1}]})"), std::string("{"), std::string("[]")}) {
    batch = nullptr;
    EXPECT_EQ(llmkit_embeddings_new(cache_, "", "openai", bad.data(), bad.size(), &batch),
              LLMKIT_INVALID_ARGUMENT)
        << bad;
    EXPECT_EQ(batch, nullptr);
  }
}

TEST_F(CacheEmbeddings, SingleStringAndTokenArrayInputs) {
  for (const std::string& request : {std::string(R"({"model":"m","input":"just one"})"),
                                     std::string(R"({"model":"m","input":[1,2,3]})"),
                                     std::string(R"({"model":"m","input":[[1,2],[3]]})")}) {
    llmkit_embeddings* batch = nullptr;
    ASSERT_EQ(llmkit_embeddings_new(cache_, "", "openai", request.data(), request.size(), &batch),
              LLMKIT_OK)
        << request;
    size_t misses = 0;
    const char* up = nullptr;
    size_t up_len = 0;
    ASSERT_EQ(llmkit_embeddings_upstream(batch, &misses, &up, &up_len), LLMKIT_OK);
    EXPECT_EQ(misses, request.find("[[") != std::string::npos ? 2u : 1u) << request;
    EXPECT_NE(std::string(up, up_len).find("\"input\":["), std::string::npos);
    llmkit_embeddings_free(batch);
  }
}

}  // namespace
