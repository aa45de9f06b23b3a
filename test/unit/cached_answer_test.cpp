// A client's cache record of an answer (pipeline/cached_answer.h): every
// field reads back exactly, and bytes that are not a whole record of this
// version read as no answer (a miss), never as a wrong one or a crash.
#include "pipeline/cached_answer.h"

#include <gtest/gtest.h>

#include <string>

namespace llmkit::pipeline {
namespace {

using providers::Response;

Response every_field() {
  Response r;
  r.text = make_string("Bonjour, Zürich 東京 🚀");
  r.reasoning = make_string("thought about it");
  r.thinking.push_back({make_string("step one"), make_string("sig-1"), false});
  r.thinking.push_back({String(), make_string("opaque"), true});
  r.tool_calls.push_back({make_string("call_1"), make_string("get_weather"),
                          make_string(R"({"city":"Paris"})"), make_string("ts-1")});
  r.tool_calls.push_back({make_string("call_2"), make_string("noop"), make_string("{}"), {}});
  r.finish = LLMKIT_FINISH_TOOL_CALLS;
  r.finish_raw = make_string("tool_use");
  r.usage = {1200, 345, 1000, 100, 45};
  r.model = make_string("claude-sonnet-4-5-20250929");
  r.id = make_string("msg_01");
  return r;
}

TEST(CachedAnswer, EveryFieldReadsBackExactly) {
  const Response r = every_field();
  const auto back = decode_answer(encode_answer(r));
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->text, r.text);
  EXPECT_EQ(back->reasoning, r.reasoning);
  ASSERT_EQ(back->thinking.size(), 2U);
  EXPECT_EQ(back->thinking[0].text, "step one");
  EXPECT_EQ(back->thinking[0].signature, "sig-1");
  EXPECT_FALSE(back->thinking[0].redacted);
  EXPECT_EQ(back->thinking[1].text, "");
  EXPECT_EQ(back->thinking[1].signature, "opaque");
  EXPECT_TRUE(back->thinking[1].redacted);
  ASSERT_EQ(back->tool_calls.size(), 2U);
  EXPECT_EQ(back->tool_calls[0].id, "call_1");
  EXPECT_EQ(back->tool_calls[0].name, "get_weather");
  EXPECT_EQ(back->tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(back->tool_calls[0].signature, "ts-1");
  EXPECT_EQ(back->tool_calls[1].signature, "");
  EXPECT_EQ(back->finish, LLMKIT_FINISH_TOOL_CALLS);
  EXPECT_EQ(back->finish_raw, "tool_use");
  EXPECT_EQ(back->usage.input, 1200);
  EXPECT_EQ(back->usage.output, 345);
  EXPECT_EQ(back->usage.cached_input, 1000);
  EXPECT_EQ(back->usage.cache_write, 100);
  EXPECT_EQ(back->usage.reasoning, 45);
  EXPECT_EQ(back->model, r.model);
  EXPECT_EQ(back->id, "msg_01");
  // What a record does not hold stays as a new answer has it.
  EXPECT_FALSE(back->cost_usd.has_value());
  EXPECT_FALSE(back->cached);
}

TEST(CachedAnswer, APartOfARecordOrMoreIsNoAnswer) {
  const String record = encode_answer(every_field());
  for (std::size_t n = 0; n < record.size(); ++n) {
    EXPECT_EQ(decode_answer(std::string_view(record).substr(0, n)), nullptr) << n << " bytes";
  }
  EXPECT_EQ(decode_answer(std::string(record) + "x"), nullptr);
}

TEST(CachedAnswer, OtherBytesAreNoAnswer) {
  // The JSON an older llmkit stored, another version's record, garbage.
  EXPECT_EQ(decode_answer(R"({"model":"m","id":"i","answer":{"text":"hi"}})"), nullptr);
  std::string record(encode_answer(every_field()));
  std::string other_version = record;
  other_version[13] = '\x02';
  EXPECT_EQ(decode_answer(other_version), nullptr);
  EXPECT_EQ(decode_answer(""), nullptr);
  // A finish reason past the last, a count past the bytes, a flag not 0 or 1.
  std::string bad_finish = record;
  bad_finish[14] = '\x07';
  EXPECT_EQ(decode_answer(bad_finish), nullptr);
}

TEST(CachedAnswer, AStringOfInvalidUtf8OrACountPastTheBytesIsNoAnswer) {
  Response r;
  r.text = make_string("hi");
  r.finish = LLMKIT_FINISH_STOP;
  std::string record(encode_answer(r));
  const std::size_t text_at = record.find("hi");
  ASSERT_NE(text_at, std::string::npos);
  std::string bad_utf8 = record;
  bad_utf8[text_at] = '\xff';
  EXPECT_EQ(decode_answer(bad_utf8), nullptr);
  // The thinking count comes after the last string, the reasoning (empty).
  std::string many = record;
  const std::size_t count_at = record.size() - 8;
  many[count_at + 3] = '\x7f';  // two billion blocks, in a record of 92 bytes
  EXPECT_EQ(decode_answer(many), nullptr);
}

}  // namespace
}  // namespace llmkit::pipeline
