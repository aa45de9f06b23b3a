#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

using llmkit::utf8::first_invalid;

TEST(Utf8, AcceptsWellFormedTextOfEveryLength) {
  EXPECT_FALSE(first_invalid(""));
  EXPECT_FALSE(first_invalid("plain ascii"));
  EXPECT_FALSE(first_invalid("\xC3\xA9"));                                      // é
  EXPECT_FALSE(first_invalid("\xE4\xB8\xAD\xE6\x96\x87"));                      // 中文
  EXPECT_FALSE(first_invalid("\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB"));  // ZWJ emoji
  EXPECT_FALSE(first_invalid("\xF4\x8F\xBF\xBF"));                              // U+10FFFF
  EXPECT_FALSE(first_invalid(std::string("a\0b", 3)));  // NUL is valid UTF-8
}

TEST(Utf8, ReportsTheOffsetOfTheFirstBadSequence) {
  EXPECT_EQ(first_invalid("ab\xFF"), 2u);                // never valid
  EXPECT_EQ(first_invalid("\x80"), 0u);                  // lone continuation
  EXPECT_EQ(first_invalid("ok\xC0\xAF"), 2u);            // overlong '/'
  EXPECT_EQ(first_invalid("\xE0\x80\xAF"), 0u);          // overlong 3-byte
  EXPECT_EQ(first_invalid("x\xED\xA0\x80"), 1u);         // surrogate U+D800
  EXPECT_EQ(first_invalid("\xF4\x90\x80\x80"), 0u);      // above U+10FFFF
  EXPECT_EQ(first_invalid("abc\xE4\xB8"), 3u);           // truncated at the end
  EXPECT_EQ(first_invalid("\xC3\xA9\xE4\x41\x41"), 2u);  // bad continuation
}

TEST(Utf8, RequireValidThrowsInvalidArgumentNamingTheOffset) {
  try {
    llmkit::utf8::require_valid("abc\xFF", "text");
    FAIL() << "expected an error";
  } catch (const llmkit::Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("byte offset 3"), std::string::npos) << e.what();
  }
}

TEST(Utf8, QuoteKeepsMessagesValidUtf8AndShort) {
  using llmkit::utf8::quote;
  EXPECT_EQ(quote("model"), "'model'");
  EXPECT_EQ(quote("caf\xC3\xA9"), "'caf\xC3\xA9'");
  EXPECT_EQ(quote("k\xFFz"), "'k\\xFFz'");
  EXPECT_EQ(quote("a\nb\x7F"), "'a\\x0Ab\\x7F'");
  EXPECT_EQ(quote(std::string(100, 'x'), 8), "'xxxxxxxx'...");
  // A cut never splits a code point: "é" is 2 bytes and would straddle byte 4.
  EXPECT_EQ(quote("abc\xC3\xA9", 4), "'abc'...");
  EXPECT_FALSE(first_invalid(quote("\xF0\x9F\x91\xA9\xFF\xC0")));
}
