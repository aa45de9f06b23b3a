#include "hooks/rule.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace llmkit::hooks {
namespace {

struct Call {
  std::string provider = "openai";
  std::string model = "gpt-4o-mini";
  std::vector<String> tags;
  std::vector<std::pair<String, String>> metadata;
  std::optional<llmkit_status> status;

  CallFacts facts() const { return {provider, model, tags, metadata, status}; }
};

class HooksRule : public ::testing::Test {
 protected:
  Rule compile(std::string_view text) {
    return Rule::compile(text, [&](std::string_view name) -> const Predicate* {
      const auto it = predicates_.find(std::string(name));
      return it == predicates_.end() ? nullptr : &it->second;
    });
  }
  bool runs(std::string_view text, const Call& call) {
    const Rule::Verdict v = compile(text).evaluate(call.facts());
    EXPECT_NE(v, Rule::Verdict::kFailed) << text;
    return v == Rule::Verdict::kRun;
  }
  std::string compile_error(std::string_view text) {
    try {
      compile(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT);
      return e.what();
    }
    ADD_FAILURE() << "compiled: " << text;
    return {};
  }

  std::map<std::string, Predicate> predicates_;
};

TEST_F(HooksRule, AnEmptyRuleMatchesEveryCall) {
  EXPECT_TRUE(runs("", Call{}));
  EXPECT_TRUE(runs("   ", Call{}));
}

TEST_F(HooksRule, ModelMatchesExactlyOrByGlob) {
  Call c;
  EXPECT_TRUE(runs("model:gpt-4o-mini", c));
  EXPECT_FALSE(runs("model:gpt-4o", c));
  EXPECT_TRUE(runs("model:gpt-4o*", c));
  EXPECT_TRUE(runs("model:gpt-?o-mini", c));
  EXPECT_TRUE(runs("model:gpt-[34]o-mini", c));
  EXPECT_FALSE(runs("model:claude-*", c));
  c.model = std::string(300, 'x');  // longer than the matcher's stack copy
  EXPECT_TRUE(runs("model:x*x", c));
}

TEST_F(HooksRule, ProviderAndTags) {
  Call c;
  c.tags = {make_string("prod"), make_string("search")};
  EXPECT_TRUE(runs("provider:openai", c));
  EXPECT_FALSE(runs("provider:anthropic", c));
  EXPECT_TRUE(runs("tag:prod", c));
  EXPECT_FALSE(runs("tag:eval", c));
  EXPECT_TRUE(runs("anytag:eval,search", c));
  EXPECT_FALSE(runs("anytag:eval,batch", c));
  EXPECT_TRUE(runs("alltags:prod,search", c));
  EXPECT_FALSE(runs("alltags:prod,eval", c));
}

TEST_F(HooksRule, MetadataValuesMatchByGlob) {
  Call c;
  c.metadata = {{make_string("team"), make_string("search")},
                {make_string("user"), make_string("alice")}};
  EXPECT_TRUE(runs("meta.team:search", c));
  EXPECT_FALSE(runs("meta.team:ads", c));
  EXPECT_TRUE(runs("meta.user:a*", c));
  EXPECT_TRUE(runs("meta.user:*", c));
  EXPECT_FALSE(runs("meta.region:*", c));  // absent key: no match
  EXPECT_TRUE(runs(R"(meta.team:"search")", c));
}

TEST_F(HooksRule, StatusClassesMatchOnlyOnceThereIsAnOutcome) {
  Call c;
  EXPECT_FALSE(runs("status:ok", c));
  EXPECT_FALSE(runs("status:error", c));
  c.status = LLMKIT_OK;
  EXPECT_TRUE(runs("status:ok", c));
  EXPECT_FALSE(runs("status:error", c));
  c.status = LLMKIT_RATE_LIMITED;
  EXPECT_TRUE(runs("status:error", c));
  EXPECT_TRUE(runs("status:rate_limited", c));
  EXPECT_TRUE(runs("status:timeout,rate_limited", c));
  EXPECT_FALSE(runs("status:timeout,network", c));
  c.status = LLMKIT_OVERLOADED;
  EXPECT_TRUE(runs("status:overloaded", c));
}

TEST_F(HooksRule, AndOrNotWithPrecedenceAndParentheses) {
  Call c;
  c.tags = {make_string("prod")};
  // not > and > or: "a or b and c" is "a or (b and c)".
  EXPECT_TRUE(runs("provider:openai or tag:eval and tag:nope", c));
  EXPECT_FALSE(runs("(provider:openai or tag:eval) and tag:nope", c));
  EXPECT_TRUE(runs("not provider:ollama and tag:prod", c));
  EXPECT_FALSE(runs("not (provider:openai and tag:prod)", c));
  EXPECT_TRUE(runs("not not tag:prod", c));
  EXPECT_TRUE(runs("model:gpt-4o* and (tag:prod or not provider:ollama)", c));
}

TEST_F(HooksRule, KeywordsAreWholeWords) {
  Call c;
  c.tags = {make_string("notes"), make_string("order")};
  EXPECT_TRUE(runs("tag:notes and tag:order", c));
  c.metadata = {{make_string("not"), make_string("x")}};
  EXPECT_TRUE(runs("meta.not:x", c));
}

TEST_F(HooksRule, QuotedValuesKeepSpacesAndEscapes) {
  Call c;
  c.metadata = {{make_string("title"), make_string(R"x(say "hi" (now))x")}};
  EXPECT_TRUE(runs(R"x(meta.title:"say \"hi\" (now)")x", c));
  EXPECT_FALSE(runs(R"(meta.title:"say")", c));
}

TEST_F(HooksRule, PredicatesDecideAndTheirFailuresFailTheRule) {
  int calls = 0;
  predicates_["mini"] = [&](const CallFacts& f) {
    ++calls;
    return f.model.ends_with("-mini") ? 1 : 0;
  };
  predicates_["broken"] = [](const CallFacts&) { return -7; };
  predicates_["throws"] = [](const CallFacts&) -> int { throw std::runtime_error("boom"); };
  Call c;
  EXPECT_TRUE(runs("pred:mini", c));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(compile("pred:broken").evaluate(c.facts()), Rule::Verdict::kFailed);
  EXPECT_EQ(compile("pred:throws").evaluate(c.facts()), Rule::Verdict::kFailed);
  EXPECT_EQ(compile("not pred:broken").evaluate(c.facts()), Rule::Verdict::kFailed);
  // and / or stop at the first operand that settles them: no failure then.
  EXPECT_EQ(compile("provider:openai or pred:broken").evaluate(c.facts()), Rule::Verdict::kRun);
  EXPECT_EQ(compile("provider:gemini and pred:broken").evaluate(c.facts()), Rule::Verdict::kSkip);
  calls = 0;
  EXPECT_FALSE(runs("tag:none and pred:mini", c));
  EXPECT_EQ(calls, 0);
}

TEST_F(HooksRule, CompileErrorsSayWhatWasExpectedAndWhere) {
  EXPECT_NE(compile_error("model").find("expected a condition such as model:NAME at column 1"),
            std::string::npos);
  EXPECT_NE(compile_error("colour:red").find("model, provider, tag"), std::string::npos);
  EXPECT_NE(compile_error("tag:a and").find("at column 10"), std::string::npos);
  EXPECT_NE(compile_error("(tag:a").find("expected ')'"), std::string::npos);
  EXPECT_NE(compile_error("tag:a)").find("a ')' without its '('"), std::string::npos);
  EXPECT_NE(compile_error("tag:a tag:b").find("'and' or 'or' at column 7"), std::string::npos);
  EXPECT_NE(compile_error("model:").find("a value after \"model:\""), std::string::npos);
  EXPECT_NE(compile_error(R"(meta.x:"open)").find("closing '\"'"), std::string::npos);
  EXPECT_NE(compile_error("status:sad").find("instead of \"sad\""), std::string::npos);
  EXPECT_NE(compile_error("status:").find("a status after"), std::string::npos);
  EXPECT_NE(compile_error("pred:nobody").find("no predicate named \"nobody\""), std::string::npos);
  EXPECT_NE(compile_error("meta.:x").find("at column 1"), std::string::npos);
  EXPECT_NE(compile_error(std::string(100, '(') + "tag:a" + std::string(100, ')'))
                .find("fewer nested parentheses"),
            std::string::npos);
}

TEST_F(HooksRule, TheTextIsKept) {
  EXPECT_EQ(compile("tag:a or tag:b").text(), "tag:a or tag:b");
}

}  // namespace
}  // namespace llmkit::hooks
