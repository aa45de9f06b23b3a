#include "options/options.h"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "status_of.h"

using llmkit::Options;

TEST(Options, SetReplacesAndUnsetRemoves) {
  Options o;
  o.set("cache.max_bytes", "1024");
  o.set("cache.max_bytes", "2048");
  ASSERT_NE(o.find("cache.max_bytes"), nullptr);
  EXPECT_EQ(std::string(o.find("cache.max_bytes")->c_str()), "2048");
  EXPECT_EQ(o.size(), 1u);
  EXPECT_TRUE(o.unset("cache.max_bytes"));
  EXPECT_FALSE(o.unset("cache.max_bytes"));
  EXPECT_EQ(o.find("cache.max_bytes"), nullptr);
}

TEST(Options, KeysMustBeLowerCaseWordsJoinedByPunctuation) {
  Options o;
  for (const char* good : {"a", "timeout_ms", "redis.url", "x-y.z_1"}) {
    EXPECT_EQ(status_of([&] { o.set(good, "v"); }), LLMKIT_OK) << good;
  }
  for (const char* bad : {"", "Upper", "has space", ".lead", "trail.", "a..b", "a._b", "ü"}) {
    EXPECT_EQ(status_of([&] { o.set(bad, "v"); }), LLMKIT_INVALID_ARGUMENT) << bad;
  }
  EXPECT_EQ(status_of([&] { o.set(std::string(129, 'a'), "v"); }), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { o.set(std::string(128, 'a'), "v"); }), LLMKIT_OK);
}

TEST(Options, ValuesMustBeValidUtf8) {
  Options o;
  EXPECT_EQ(status_of([&] { o.set("name", "caf\xC3\xA9"); }), LLMKIT_OK);
  EXPECT_EQ(status_of([&] { o.set("name", "caf\xC3"); }), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(o.find("name")->c_str()), "caf\xC3\xA9");  // failed set changed nothing
}

TEST(Options, TypedReadersParseOrNameTheBadKey) {
  Options o;
  o.set("n", "-42");
  o.set("flag", "off");
  o.set("junk", "12abc");
  EXPECT_EQ(o.get_int("n"), -42);
  EXPECT_EQ(o.get_int("missing"), std::nullopt);
  EXPECT_EQ(o.get_bool("flag"), false);
  try {
    (void)o.get_int("junk");
    FAIL() << "expected an error";
  } catch (const llmkit::Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("'junk'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(status_of([&] { (void)o.get_bool("n"); }), LLMKIT_INVALID_ARGUMENT);
}

TEST(Options, RequireKnownRejectsUnknownKeysByName) {
  Options o;
  o.set("ttl", "5");
  o.set("tll", "5");
  try {
    const std::string_view known[] = {"ttl", "max_entries"};
    o.require_known(known, "the cache");
    FAIL() << "expected an error";
  } catch (const llmkit::Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("'tll' for the cache"), std::string::npos) << e.what();
  }
  o.unset("tll");
  const std::string_view ttl_only[] = {"ttl"};
  EXPECT_EQ(status_of([&] { o.require_known(ttl_only, "the cache"); }), LLMKIT_OK);
}

TEST(Options, APassedCheckIsRememberedOnlyUntilTheKeysChange) {
  static constexpr std::string_view kKnown[] = {"stream", "timeout."};
  Options o;
  o.set("stream", "true");
  EXPECT_EQ(status_of([&] { o.require_known(kKnown, "a call"); }), LLMKIT_OK);
  o.set("streem", "true");  // a change after a passing check: checked again
  EXPECT_EQ(status_of([&] { o.require_known(kKnown, "a call"); }), LLMKIT_INVALID_ARGUMENT);
  o.unset("streem");
  o.set("timeout.total", "5");
  EXPECT_EQ(status_of([&] { o.require_known(kKnown, "a call"); }), LLMKIT_OK);
  // The same array cut short: not the check that passed.
  EXPECT_EQ(status_of([&] { o.require_known(std::span(kKnown).first(1), "a call"); }),
            LLMKIT_INVALID_ARGUMENT);
  // A copy is its own object; another object with other keys, too.
  Options copy = o;
  copy.set("raw", "1");
  EXPECT_EQ(status_of([&] { copy.require_known(kKnown, "a call"); }), LLMKIT_INVALID_ARGUMENT);
  Options other;
  other.set("x", "1");
  EXPECT_EQ(status_of([&] { other.require_known(kKnown, "a call"); }), LLMKIT_INVALID_ARGUMENT);
  // Keys moved in over a passing check's object are checked again.
  EXPECT_EQ(status_of([&] { o.require_known(kKnown, "a call"); }), LLMKIT_OK);
  o = std::move(other);
  EXPECT_EQ(status_of([&] { o.require_known(kKnown, "a call"); }), LLMKIT_INVALID_ARGUMENT);
  Options moved(std::move(o));
  EXPECT_EQ(moved.get_string("x", ""), "1");
  EXPECT_EQ(status_of([&] { moved.require_known(kKnown, "a call"); }), LLMKIT_INVALID_ARGUMENT);
}

TEST(Options, AnyUnderAsksForAPrefix) {
  Options o;
  EXPECT_FALSE(o.any_under("timeout."));
  o.set("timeouts", "1");
  o.set("timeout", "1");
  EXPECT_FALSE(o.any_under("timeout."));
  o.set("timeout.total", "5");
  EXPECT_TRUE(o.any_under("timeout."));
}
