// Behaviour of the C boundary as a C caller sees it.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <thread>

#include "llmkit.h"

TEST(CApi, VersionMatchesTheHeader) {
  EXPECT_STREQ(llmkit_version(), LLMKIT_VERSION_STRING);
  EXPECT_EQ(llmkit_version_number(), LLMKIT_VERSION_NUMBER);
}

TEST(CApi, EveryStatusHasADistinctName) {
  std::set<std::string> names;
  for (int s = LLMKIT_OK; s <= LLMKIT_OVERLOADED; ++s) {
    const char* name = llmkit_status_str(static_cast<llmkit_status>(s));
    EXPECT_STRNE(name, "UNKNOWN") << s;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  // Out-of-range values are checked from C, where any int fits the enum:
  // test/integration/cli_test.sh (the CLI is C and walks the codes).
}

TEST(CApi, NullHandlesAndOutPointersAreInvalidArguments) {
  const char* value = nullptr;
  size_t n = 0;
  EXPECT_EQ(llmkit_options_new(nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "out is NULL");
  EXPECT_EQ(llmkit_options_set(nullptr, "k", "v"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_get(nullptr, "k", &value), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_unset(nullptr, "k"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_count(nullptr, &n), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_copy(nullptr, nullptr), LLMKIT_INVALID_ARGUMENT);
  llmkit_options_free(nullptr);  // a no-op, by contract

  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  EXPECT_EQ(llmkit_options_set(o, nullptr, "v"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_STREQ(llmkit_last_error(), "key is NULL");
  EXPECT_EQ(llmkit_options_set(o, "k", nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_get(o, "k", nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_count(o, nullptr), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_options_copy(o, nullptr), LLMKIT_INVALID_ARGUMENT);
  llmkit_options_free(o);
}

TEST(CApi, OptionsRoundTripAndCopiesAreIndependent) {
  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  ASSERT_EQ(llmkit_options_set(o, "model", "gpt-4o"), LLMKIT_OK);
  EXPECT_STREQ(llmkit_last_error(), "");

  llmkit_options* c = nullptr;
  ASSERT_EQ(llmkit_options_copy(o, &c), LLMKIT_OK);
  ASSERT_EQ(llmkit_options_set(o, "model", "o3"), LLMKIT_OK);

  const char* v = nullptr;
  ASSERT_EQ(llmkit_options_get(c, "model", &v), LLMKIT_OK);
  EXPECT_STREQ(v, "gpt-4o");
  ASSERT_EQ(llmkit_options_get(o, "model", &v), LLMKIT_OK);
  EXPECT_STREQ(v, "o3");

  EXPECT_EQ(llmkit_options_get(o, "absent", &v), LLMKIT_NOT_FOUND);
  EXPECT_STREQ(llmkit_last_error(), "option 'absent' is not set");
  EXPECT_EQ(llmkit_options_unset(o, "absent"), LLMKIT_NOT_FOUND);

  size_t n = 0;
  ASSERT_EQ(llmkit_options_count(o, &n), LLMKIT_OK);
  EXPECT_EQ(n, 1u);
  llmkit_options_free(c);
  llmkit_options_free(o);
}

TEST(CApi, BadInputGivesAClearMessage) {
  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  EXPECT_EQ(llmkit_options_set(o, "Bad Key", "v"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "invalid option key 'Bad Key'"), nullptr)
      << llmkit_last_error();
  EXPECT_EQ(llmkit_options_set(o, "k", "ab\xFF"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "byte offset 2"), nullptr) << llmkit_last_error();
  llmkit_options_free(o);
}

TEST(CApi, LastErrorIsPerThreadAndClearedBySuccess) {
  ASSERT_EQ(llmkit_options_new(nullptr), LLMKIT_INVALID_ARGUMENT);
  std::string other;
  std::thread([&] {
    other = llmkit_last_error();  // untouched by the main thread's failure
    llmkit_options_get(nullptr, "k", nullptr);
  }).join();
  EXPECT_EQ(other, "");
  EXPECT_STREQ(llmkit_last_error(), "out is NULL");  // not overwritten by the other thread

  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  EXPECT_STREQ(llmkit_last_error(), "");
  llmkit_options_free(o);
}

TEST(CApi, MessagesEscapeTheBytesTheyQuote) {
  llmkit_options* o = nullptr;
  ASSERT_EQ(llmkit_options_new(&o), LLMKIT_OK);
  EXPECT_EQ(llmkit_options_set(o, "k\xFF", "v"), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(llmkit_last_error(), "'k\\xFF'"), nullptr) << llmkit_last_error();
  llmkit_options_free(o);
}
