// The cache through the C API, as an application uses it: key, miss, put,
// hit; per-call options; values that outlive the cache; and every kind of
// bad argument answered with a status and a message.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "llmkit.h"

namespace {

class CacheApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(llmkit_options_new(&options_), LLMKIT_OK);
    ASSERT_EQ(llmkit_cache_new(options_, &cache_), LLMKIT_OK);
  }
  void TearDown() override {
    llmkit_cache_free(cache_);
    llmkit_options_free(options_);
  }

  std::string key(const std::string& request, const char* scope = "acme",
                  const llmkit_options* call = nullptr, llmkit_cache_use* use_out = nullptr) {
    char k[LLMKIT_CACHE_KEY_SIZE];
    llmkit_cache_use use = LLMKIT_CACHE_BYPASS;
    EXPECT_EQ(
        llmkit_cache_key(cache_, scope, "openai", request.data(), request.size(), call, k, &use),
        LLMKIT_OK)
        << llmkit_last_error();
    if (use_out != nullptr) *use_out = use;
    return k;
  }

  std::string get(const std::string& k) {
    llmkit_cache_value* v = nullptr;
    EXPECT_EQ(llmkit_cache_get(cache_, k.c_str(), &v), LLMKIT_OK) << llmkit_last_error();
    if (v == nullptr) return "<miss>";
    const char* data = nullptr;
    size_t len = 0;
    EXPECT_EQ(llmkit_cache_value_data(v, &data, &len), LLMKIT_OK);
    std::string out(data, len);
    llmkit_cache_value_free(v);
    return out;
  }

  llmkit_options* options_ = nullptr;
  llmkit_cache* cache_ = nullptr;
};

const std::string kRequest =
    R"({"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Hi"}]})";

TEST_F(CacheApi, MissPutHit) {
  const std::string k = key(kRequest);
  EXPECT_EQ(k.size(), 32u);
  EXPECT_EQ(get(k), "<miss>");
  const std::string answer = R"({"object":"chat.completion","choices":[]})";
  ASSERT_EQ(llmkit_cache_put(cache_, k.c_str(), answer.data(), answer.size(), 0), LLMKIT_OK);
  EXPECT_EQ(get(k), answer);
  EXPECT_EQ(get(key(kRequest, "other-tenant")), "<miss>");
  // Bytes, not C strings: NULs survive.
  ASSERT_EQ(llmkit_cache_put(cache_, k.c_str(), "a\0b", 3, 0), LLMKIT_OK);
  EXPECT_EQ(get(k), std::string("a\0b", 3));
  ASSERT_EQ(llmkit_cache_invalidate(cache_, k.c_str()), LLMKIT_OK);
  EXPECT_EQ(get(k), "<miss>");
  ASSERT_EQ(llmkit_cache_invalidate(cache_, k.c_str()), LLMKIT_OK);  // absent: still fine
  // The longest TTL the API takes does not overflow into "already expired".
  ASSERT_EQ(llmkit_cache_put(cache_, k.c_str(), "long", 4, INT64_MAX / 1'000'000), LLMKIT_OK);
  EXPECT_EQ(get(k), "long");
  ASSERT_EQ(llmkit_cache_invalidate(cache_, k.c_str()), LLMKIT_OK);

  uint64_t v = 0;
  for (const auto& [name, expected] : {std::pair{"hits", 3u}, std::pair{"misses", 3u},
                                       std::pair{"entries", 0u}, std::pair{"bytes", 0u}}) {
    ASSERT_EQ(llmkit_cache_stat(cache_, name, &v), LLMKIT_OK);
    EXPECT_EQ(v, expected) << name;
  }
  EXPECT_EQ(llmkit_cache_stat(cache_, "hit_rate", &v), LLMKIT_NOT_FOUND);
  EXPECT_NE(std::strstr(llmkit_last_error(), "backend_errors"), nullptr);
}

TEST_F(CacheApi, AValueOutlivesItsCache) {
  const std::string k = key(kRequest);
  ASSERT_EQ(llmkit_cache_put(cache_, k.c_str(), "kept", 4, 0), LLMKIT_OK);
  llmkit_cache_value* v = nullptr;
  ASSERT_EQ(llmkit_cache_get(cache_, k.c_str(), &v), LLMKIT_OK);
  ASSERT_EQ(llmkit_cache_clear(cache_), LLMKIT_OK);
  llmkit_cache_free(cache_);
  cache_ = nullptr;
  const char* data = nullptr;
  size_t len = 0;
  ASSERT_EQ(llmkit_cache_value_data(v, &data, &len), LLMKIT_OK);
  EXPECT_EQ(std::string(data, len), "kept");
  llmkit_cache_value_free(v);
}

TEST_F(CacheApi, PerCallOptions) {
  llmkit_options* call = nullptr;
  ASSERT_EQ(llmkit_options_new(&call), LLMKIT_OK);
  llmkit_cache_use use = LLMKIT_CACHE_USE;
  for (const auto& [value, expected] :
       {std::pair{"bypass", LLMKIT_CACHE_BYPASS}, std::pair{"refresh", LLMKIT_CACHE_REFRESH},
        std::pair{"use", LLMKIT_CACHE_USE}}) {
    ASSERT_EQ(llmkit_options_set(call, "cache", value), LLMKIT_OK);
    key(kRequest, "acme", call, &use);
    EXPECT_EQ(use, expected) << value;
  }
  char k[LLMKIT_CACHE_KEY_SIZE];
  ASSERT_EQ(llmkit_options_set(call, "cache", "sometimes"), LLMKIT_OK);
  EXPECT_EQ(llmkit_cache_key(cache_, "", "openai", kRequest.data(), kRequest.size(), call, k, &use),
            LLMKIT_INVALID_ARGUMENT);
  ASSERT_EQ(llmkit_options_unset(call, "cache"), LLMKIT_OK);
  ASSERT_EQ(llmkit_options_set(call, "cache_ttl", "5"), LLMKIT_OK);
  EXPECT_EQ(llmkit_cache_key(cache_, "", "openai", kRequest.data(), kRequest.size(), call, k, &use),
            LLMKIT_INVALID_ARGUMENT);
  llmkit_options_free(call);
}

TEST_F(CacheApi, WaitsCanBeCancelled) {
  const std::string k = key(kRequest);
  llmkit_cache_value* v = nullptr;
  int fill = 0;
  ASSERT_EQ(llmkit_cache_lookup(cache_, k.c_str(), 1000, nullptr, &v, &fill), LLMKIT_OK);
  ASSERT_EQ(fill, 1);
  llmkit_cancel* cancel = nullptr;
  ASSERT_EQ(llmkit_cancel_new(&cancel), LLMKIT_OK);
  ASSERT_EQ(llmkit_cancel_trigger(cancel), LLMKIT_OK);
  EXPECT_EQ(llmkit_cache_lookup(cache_, k.c_str(), 60'000, cancel, &v, &fill), LLMKIT_CANCELLED);
  EXPECT_EQ(v, nullptr);
  llmkit_cancel_free(cancel);
  ASSERT_EQ(llmkit_cache_abandon(cache_, k.c_str()), LLMKIT_OK);
  ASSERT_EQ(llmkit_cache_lookup(cache_, k.c_str(), 1000, nullptr, &v, &fill), LLMKIT_OK);
  EXPECT_EQ(fill, 1);
}

TEST_F(CacheApi, BadArgumentsAreErrorsWithMessages) {
  char k[LLMKIT_CACHE_KEY_SIZE];
  llmkit_cache_use use;
  llmkit_cache_value* v = nullptr;
  const char* r = kRequest.c_str();
  const size_t n = kRequest.size();
  const auto invalid = [](llmkit_status st) {
    EXPECT_EQ(st, LLMKIT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(llmkit_last_error()), "");
  };
  invalid(llmkit_cache_new(nullptr, &cache_));
  invalid(llmkit_cache_key(nullptr, "", "openai", r, n, nullptr, k, &use));
  invalid(llmkit_cache_key(cache_, "", nullptr, r, n, nullptr, k, &use));
  invalid(llmkit_cache_key(cache_, "", "openai", nullptr, 5, nullptr, k, &use));
  invalid(llmkit_cache_key(cache_, "", "openai", r, n, nullptr, nullptr, &use));
  invalid(llmkit_cache_key(cache_, "", "openai", r, n, nullptr, k, nullptr));
  invalid(llmkit_cache_key(cache_, "", "openai", r, n - 1, nullptr, k, &use));  // truncated
  invalid(llmkit_cache_key(cache_, "\xff", "openai", r, n, nullptr, k, &use));
  invalid(llmkit_cache_get(cache_, "not a key", &v));
  invalid(llmkit_cache_get(cache_, nullptr, &v));
  invalid(llmkit_cache_get(nullptr, "00000000000000000000000000000000", &v));
  invalid(llmkit_cache_put(cache_, "00000000000000000000000000000000", "x", 1, -1));
  invalid(llmkit_cache_put(cache_, "00000000000000000000000000000000", nullptr, 1, 0));
  invalid(llmkit_cache_value_data(nullptr, nullptr, nullptr));
  invalid(llmkit_cache_clear(nullptr));
  invalid(llmkit_cache_stat(cache_, nullptr, nullptr));
  invalid(llmkit_embeddings_new(nullptr, "", "openai", r, n, nullptr));
  llmkit_cache_free(nullptr);
  llmkit_cache_value_free(nullptr);
  llmkit_embeddings_free(nullptr);
  llmkit_replay_free(nullptr);
}

}  // namespace
