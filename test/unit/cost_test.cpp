#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "cost/pricing.h"
#include "status_of.h"

using llmkit::cost::cost_usd;
using llmkit::cost::Price;
using llmkit::cost::PriceTable;
using llmkit::providers::Usage;

namespace {

Usage usage(std::int64_t input, std::int64_t cached, std::int64_t write, std::int64_t output,
            std::int64_t reasoning) {
  Usage u;
  u.input = input;
  u.cached_input = cached;
  u.cache_write = write;
  u.output = output;
  u.reasoning = reasoning;
  return u;
}

// Powers of two, so every product and sum below is exact in a double and
// each rate shows up in the total as a bit of its own.
constexpr const char* kDistinctRates = R"({"test": {"models": {"m": {
  "input": 1, "cached_input": 2, "cache_write": 4, "output": 8, "reasoning": 16}}}})";

const Price& distinct() {
  static const PriceTable table = PriceTable::load(kDistinctRates);
  return *table.find("test", "m");
}

std::string error_of(const std::string& json_or_path, const PriceTable* base = nullptr) {
  try {
    (void)PriceTable::load(json_or_path, base);
  } catch (const llmkit::Error& e) {
    EXPECT_EQ(e.status(), LLMKIT_INVALID_ARGUMENT) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << json_or_path;
  return {};
}

// A model entry with `body` inside provider "p", model "m".
std::string model_json(const std::string& body) {
  return R"({"p": {"models": {"m": {)" + body + "}}}}";
}

}  // namespace

TEST(Cost, EveryRateAppliesToItsOwnTokenClassOnly) {
  const Price& p = distinct();
  EXPECT_EQ(cost_usd(p, usage(1'000'000, 0, 0, 0, 0)), 1.0);
  EXPECT_EQ(cost_usd(p, usage(1'000'000, 1'000'000, 0, 0, 0)), 2.0);  // all read from cache
  EXPECT_EQ(cost_usd(p, usage(1'000'000, 0, 1'000'000, 0, 0)), 4.0);  // all written to cache
  EXPECT_EQ(cost_usd(p, usage(0, 0, 0, 1'000'000, 0)), 8.0);
  EXPECT_EQ(cost_usd(p, usage(0, 0, 0, 1'000'000, 1'000'000)), 16.0);  // all reasoning
  EXPECT_EQ(cost_usd(p, usage(0, 0, 0, 0, 0)), 0.0);
}

TEST(Cost, MixedUsageCountsEveryTokenOnce) {
  // 1000 prompt tokens: 300 cache reads, 200 cache writes, so 500 plain;
  // 700 output tokens: 100 reasoning, so 600 plain.
  const double expected = (500 * 1 + 300 * 2 + 200 * 4 + 600 * 8 + 100 * 16) / 1e6;
  EXPECT_EQ(cost_usd(distinct(), usage(1000, 300, 200, 700, 100)), expected);
  EXPECT_EQ(expected, 0.0083);

  // Claude Sonnet 4.5: $3 input, $0.30 cache read, $3.75 cache write, $15 output.
  // 2000*3 + 6000*0.30 + 2000*3.75 + 1000*15 + 500*15 = 37800 per million.
  const Price* sonnet = PriceTable::builtin().find("anthropic", "claude-sonnet-4-5");
  ASSERT_NE(sonnet, nullptr);
  const auto cost = cost_usd(*sonnet, usage(10000, 6000, 2000, 1500, 500));
  ASSERT_TRUE(cost.has_value());
  EXPECT_NEAR(*cost, 0.0378, 1e-15);
}

TEST(Cost, UnlistedRatesCostWhatPlainTokensCost) {
  const PriceTable t = PriceTable::load(model_json(R"("input": 2, "output": 6)"));
  const Price* p = t.find("p", "m");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->rates.cached_input, 2);
  EXPECT_EQ(p->rates.cache_write, 2);
  EXPECT_EQ(p->rates.reasoning, 6);
  EXPECT_EQ(cost_usd(*p, usage(1'000'000, 250'000, 250'000, 1'000'000, 500'000)), 8.0);
}

TEST(Cost, LongPromptTierPricesTheWholeCall) {
  const Price* pro = PriceTable::builtin().find("gemini", "gemini-2.5-pro");
  ASSERT_NE(pro, nullptr);
  EXPECT_EQ(pro->long_above, 200000);
  // At the threshold the base rates apply: $1.25 input, $10 output.
  EXPECT_NEAR(*cost_usd(*pro, usage(200000, 0, 0, 1000, 0)), 0.25 + 0.01, 1e-15);
  // One token more and every token pays the long rates: $2.50, $0.25 cached, $15.
  EXPECT_NEAR(*cost_usd(*pro, usage(200001, 100000, 0, 1000, 0)),
              (100001 * 2.50 + 100000 * 0.25 + 1000 * 15.0) / 1e6, 1e-15);

  const Price* gpt = PriceTable::builtin().find("openai", "gpt-5.5");
  ASSERT_NE(gpt, nullptr);
  EXPECT_EQ(gpt->long_above, 272000);
  EXPECT_EQ(gpt->rates_for(272001).input, 10.0);
  EXPECT_EQ(gpt->rates_for(272000).input, 5.0);

  const Price* flash = PriceTable::builtin().find("gemini", "gemini-2.5-flash");
  ASSERT_NE(flash, nullptr);
  EXPECT_EQ(flash->long_above, 0);
  EXPECT_EQ(&flash->rates_for(900000), &flash->rates);
}

TEST(Cost, ContradictoryUsageHasNoCost) {
  const Price& p = distinct();
  EXPECT_EQ(cost_usd(p, usage(100, 101, 0, 0, 0)), std::nullopt);  // more cached than input
  EXPECT_EQ(cost_usd(p, usage(100, 0, 101, 0, 0)), std::nullopt);
  EXPECT_EQ(cost_usd(p, usage(100, 60, 41, 0, 0)), std::nullopt);  // cached + write > input
  EXPECT_EQ(cost_usd(p, usage(0, 0, 0, 10, 11)), std::nullopt);    // reasoning > output
  EXPECT_EQ(cost_usd(p, usage(-1, 0, 0, 0, 0)), std::nullopt);
  EXPECT_EQ(cost_usd(p, usage(0, 0, 0, -5, -5)), std::nullopt);
  EXPECT_NE(cost_usd(p, usage(100, 60, 40, 10, 10)), std::nullopt);  // exactly all of them
}

TEST(Cost, DatedModelIdsResolveToTheirBase) {
  const PriceTable& t = PriceTable::builtin();
  const std::pair<const char*, const char*> cases[] = {{"openai", "gpt-4o-2024-08-06"},
                                                       {"openai", "gpt-4o-mini-2024-07-18"},
                                                       {"openai", "gpt-4.1-2025-04-14"},
                                                       {"openai", "o3-2025-04-16"},
                                                       {"openai", "gpt-5-2025-08-07"},
                                                       {"anthropic", "claude-sonnet-4-5-20250929"},
                                                       {"anthropic", "claude-opus-4-20250514"},
                                                       {"anthropic", "claude-3-7-sonnet-latest"},
                                                       {"anthropic", "claude-haiku-4-5-20251001"}};
  for (const auto& [provider, model] : cases) {
    const std::string id = model;
    const std::size_t cut = id.ends_with("-latest")    ? id.size() - 7
                            : id[id.size() - 3] == '-' ? id.size() - 11
                                                       : id.size() - 9;
    const Price* dated = t.find(provider, id);
    EXPECT_NE(dated, nullptr) << id;
    EXPECT_EQ(dated, t.find(provider, id.substr(0, cut))) << id;
  }
  // Aliases the providers publish.
  EXPECT_EQ(t.find("anthropic", "claude-opus-4-0"), t.find("anthropic", "claude-opus-4"));
  EXPECT_EQ(t.find("anthropic", "claude-sonnet-4-0"), t.find("anthropic", "claude-sonnet-4"));
  EXPECT_EQ(t.find("gemini", "gemini-2.0-flash-001"), t.find("gemini", "gemini-2.0-flash"));
  // An exact entry wins over the base: this snapshot has its own price.
  const Price* may = t.find("openai", "gpt-4o-2024-05-13");
  ASSERT_NE(may, nullptr);
  EXPECT_EQ(may->rates.input, 5.0);
  EXPECT_EQ(t.find("openai", "gpt-4o")->rates.input, 2.5);
  // Version numbers and partial dates are not snapshot dates.
  EXPECT_EQ(t.find("openai", "gpt-4-0613"), nullptr);
  EXPECT_EQ(t.find("openai", "gpt-4o-2024-08"), nullptr);
  EXPECT_EQ(t.find("openai", "gpt-4o-20240806x"), nullptr);
  EXPECT_EQ(t.find("openai", "-latest"), nullptr);
}

TEST(Cost, UnknownModelHasNoPriceWhichIsNotZero) {
  const PriceTable& t = PriceTable::builtin();
  EXPECT_EQ(t.find("openai", "gpt-unknown"), nullptr);
  EXPECT_EQ(t.find("openai", "GPT-4O"), nullptr);  // ids are exact
  EXPECT_EQ(t.find("ollama", "llama3.2"), nullptr);
  EXPECT_EQ(t.find("openai-compatible", "gpt-4o"), nullptr);  // another host's bill
  EXPECT_EQ(t.find("nobody", "gpt-4o"), nullptr);
  EXPECT_EQ(t.find("anthropic", "gpt-4o"), nullptr);

  const PriceTable local =
      PriceTable::load(R"({"ollama": {"models": {"llama3.2": {"input": 0, "output": 0}}}})", &t);
  const Price* free = local.find("ollama", "llama3.2");
  ASSERT_NE(free, nullptr);
  EXPECT_EQ(cost_usd(*free, usage(5000, 0, 0, 500, 0)), 0.0);
}

TEST(Cost, OverrideReplacesAndAdds) {
  const PriceTable& base = PriceTable::builtin();
  const PriceTable t = PriceTable::load(R"({
    "openai": {"models": {
      "gpt-4o": {"input": 1, "output": 2},
      "my-finetune": {"input": 3.5, "cached_input": 1, "output": 7, "aliases": ["ft"]}}},
    "anthropic": {"models": {"claude-opus-4": {"input": 10, "output": 50}}},
    "ollama": {"source": {"url": "https://example.com/contract", "read": "2026-01-31"},
               "models": {"llama3.2": {"input": 0, "output": 0}}}})",
                                        &base);
  // Replaced whole: the cached rate falls back to the new input rate.
  const Price* gpt4o = t.find("openai", "gpt-4o");
  ASSERT_NE(gpt4o, nullptr);
  EXPECT_EQ(gpt4o->rates.input, 1);
  EXPECT_EQ(gpt4o->rates.cached_input, 1);
  EXPECT_EQ(t.find("openai", "gpt-4o-2024-08-06"), gpt4o);  // snapshots follow
  // Aliases follow their model.
  EXPECT_EQ(t.find("anthropic", "claude-opus-4-0")->rates.input, 10);
  // Added.
  ASSERT_NE(t.find("openai", "my-finetune"), nullptr);
  EXPECT_EQ(t.find("openai", "ft"), t.find("openai", "my-finetune"));
  ASSERT_NE(t.find("ollama", "llama3.2"), nullptr);
  EXPECT_EQ(std::string(t.source("ollama")->url), "https://example.com/contract");
  // The rest is the base's, and the base is unchanged.
  EXPECT_EQ(t.find("openai", "gpt-4o-mini")->rates.input, 0.15);
  EXPECT_EQ(std::string(t.source("openai")->url), std::string(base.source("openai")->url));
  EXPECT_EQ(base.find("openai", "gpt-4o")->rates.input, 2.5);
  EXPECT_EQ(base.find("openai", "my-finetune"), nullptr);
  // Without a base, only the file's entries.
  const PriceTable alone = PriceTable::load(R"({"openai": {"models": {}}})");
  EXPECT_EQ(alone.find("openai", "gpt-4o"), nullptr);
}

TEST(Cost, OverrideLoadsFromAFile) {
  char path[] = "/tmp/llmkit_cost_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string json =
      R"(  {"gemini": {"models": {"gemini-2.5-flash": {"input": 0.2, "output": 2}}}})";
  ASSERT_EQ(write(fd, json.data(), json.size()), static_cast<ssize_t>(json.size()));
  close(fd);
  const PriceTable t = PriceTable::load(path, &PriceTable::builtin());
  EXPECT_EQ(t.find("gemini", "gemini-2.5-flash")->rates.input, 0.2);
  EXPECT_EQ(t.find("gemini", "gemini-2.5-pro")->rates.input, 1.25);

  const std::string broken = R"({"gemini": {"models": {"x": {"input": 1}}}})";
  FILE* f = std::fopen(path, "w");
  ASSERT_NE(f, nullptr);
  std::fputs(broken.c_str(), f);
  std::fclose(f);
  const std::string message = error_of(path);
  EXPECT_NE(message.find(std::string("price file '") + path + "'"), std::string::npos) << message;
  EXPECT_NE(message.find("model 'x'"), std::string::npos) << message;
  EXPECT_NE(message.find("\"output\" is missing"), std::string::npos) << message;
  std::remove(path);

  const std::string missing = error_of(path);
  EXPECT_NE(missing.find("cannot be opened"), std::string::npos) << missing;
  EXPECT_NE(missing.find(path), std::string::npos) << missing;
  EXPECT_NE(error_of("").find("not a file path"), std::string::npos);
}

TEST(Cost, MalformedOverridesNameTheProblemAndTheEntry) {
  const std::pair<std::string, std::vector<std::string>> cases[] = {
      {R"({"p": )", {"the price JSON: not valid JSON near the end of the text"}},
      {R"({"p": "unclosed)", {"the price JSON: not valid JSON: "}},
      {"{\n  \"p\": {\"models\": {,}}\n}", {"not valid JSON near line 2, column 20"}},
      {R"({"p": {"models": {"m": {"input": 1e999, "output": 1}}}})",
       {"not valid JSON near line 1, column 34", "number"}},
      {R"({"p": {"models": {}}} trailing)", {"not valid JSON near line 1, column 23"}},
      {"  {} ", {}},  // empty is fine
      {R"({"p": []})", {"provider 'p'", "the provider entry must be a JSON object"}},
      {R"({"": {"models": {}}})", {"a provider name is empty"}},
      {R"({"p": {"model": {}}})", {"provider 'p'", "unknown member 'model'"}},
      {R"({"p": {}})", {"provider 'p'", "\"models\" is missing"}},
      {R"({"p": {"models": []}})", {"\"models\" must be a JSON object"}},
      {R"({"p": {"models": {}}, "p": {"models": {}}})", {"the provider appears twice"}},
      {R"({"p": {"models": {"": {"input": 1, "output": 1}}}})", {"a model name is empty"}},
      {model_json(R"("input": -0.5, "output": 1)"),
       {"provider 'p', model 'm'", "\"input\" must be >= 0, got '-0.5'"}},
      {model_json(R"("input": 1, "output": -3)"), {"\"output\" must be >= 0"}},
      {model_json(R"("input": "2.5", "output": 1)"), {"model 'm'", "\"input\" must be a number"}},
      {model_json(R"("input": null, "output": 1)"), {"\"input\" must be a number"}},
      {model_json(R"("input": 1, "output": 1, "reasoning": true)"),
       {"\"reasoning\" must be a number"}},
      {model_json(R"("input": 1, "output": 1, "cached_input": [1])"),
       {"\"cached_input\" must be a number"}},
      {model_json(R"("output": 1)"), {"model 'm'", "\"input\" is missing"}},
      {model_json(R"("input": 1)"), {"\"output\" is missing"}},
      {model_json(R"("input": 1, "inptu": 1, "output": 1)"),
       {"model 'm'", "unknown member 'inptu'", "known: input, cached_input"}},
      {model_json(R"("input": 1, "input": 2, "output": 1)"), {"member 'input' appears twice"}},
      {R"({"p": {"models": {"m": 3}}})", {"model 'm'", "the model entry must be a JSON object"}},
      {R"({"p": {"models": {"m": {"input": 1, "output": 1}, "m": {"input": 2, "output": 2}}}})",
       {"the name 'm' is given to two entries"}},
      {R"({"p": {"models": {"m": {"input": 1, "output": 1}, "n": {"input": 1, "output": 1,
          "aliases": ["m"]}}}})",
       {"model 'n'", "the name 'm' is given to two entries"}},
      {model_json(R"("input": 1, "output": 1, "aliases": "m2")"), {"\"aliases\" must be an array"}},
      {model_json(R"("input": 1, "output": 1, "aliases": [""])"),
       {"an alias must be a non-empty string"}},
      {model_json(R"("input": 1, "output": 1, "above": {"input": 2, "output": 2})"),
       {"model 'm', tier \"above\"", "\"prompt_tokens\" is missing"}},
      {model_json(
           R"("input": 1, "output": 1, "above": {"prompt_tokens": 0, "input": 2, "output": 2})"),
       {"\"prompt_tokens\" must be a whole number of tokens > 0"}},
      {model_json(
           R"("input": 1, "output": 1, "above": {"prompt_tokens": 1.5e5, "input": 2, "output": 2})"),
       {"\"prompt_tokens\" must be a whole number"}},
      {model_json(R"("input": 1, "output": 1, "above": {"prompt_tokens": 10, "output": 2})"),
       {"tier \"above\"", "\"input\" is missing"}},
      {model_json(
           R"("input": 1, "output": 1, "above": {"prompt_tokens": 10, "input": 2, "output": 2, "x": 1})"),
       {"tier \"above\"", "unknown member 'x'"}},
      {model_json(R"("input": 1, "output": 1, "above": 5)"), {"the tier must be a JSON object"}},
      {R"({"p": {"source": {"url": "https://x"}, "models": {}}})", {"\"read\""}},
      {R"({"p": {"source": {"url": "https://x", "read": "last week"}, "models": {}}})",
       {"YYYY-MM-DD"}},
      {R"({"p": {"source": {"read": "2026-01-01"}, "models": {}}})", {"has no \"url\""}},
      {R"({"p": {"source": {"url": 7, "read": "2026-01-01"}, "models": {}}})",
       {"\"source\".url must be a non-empty string"}},
      {R"({"p": {"source": {"url": "u", "read": "2026-01-01", "by": "me"}, "models": {}}})",
       {"unknown member 'by'"}},
      {"[1, 2]", {"the top level (keyed by provider) must be a JSON object"}},
  };
  for (const auto& [json, fragments] : cases) {
    if (fragments.empty()) {
      EXPECT_EQ(status_of([&] { (void)PriceTable::load(json); }), LLMKIT_OK) << json;
      continue;
    }
    const std::string message = error_of(json, &PriceTable::builtin());
    for (const std::string& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message: " << message << "\nexpected: " << fragment << "\njson: " << json;
    }
  }
}

TEST(Cost, BuiltinTableHasEveryRateAndASource) {
  const PriceTable& t = PriceTable::builtin();
  EXPECT_EQ(&t, &PriceTable::builtin());  // parsed once
  int models = 0;
  t.for_each([&](std::string_view provider, std::string_view model, const Price& p) {
    ++models;
    SCOPED_TRACE(std::string(provider) + "/" + std::string(model));
    for (const auto* r : {&p.rates, &p.long_rates}) {
      for (const double rate :
           {r->input, r->cached_input, r->cache_write, r->output, r->reasoning}) {
        EXPECT_TRUE(std::isfinite(rate) && rate >= 0) << rate;
      }
    }
    EXPECT_GT(p.rates.input, 0);
    EXPECT_GT(p.rates.output, 0);
    EXPECT_LE(p.rates.cached_input, p.rates.input);  // a cache read never costs more
    EXPECT_GE(p.long_above, 0);
    if (p.long_above > 0) {
      EXPECT_GT(p.long_rates.input, p.rates.input);
    }
    const auto* source = t.source(provider);
    ASSERT_NE(source, nullptr);
    EXPECT_TRUE(std::string_view(source->url).starts_with("https://")) << source->url;
    EXPECT_EQ(source->read.size(), 10u) << source->read;
  });
  EXPECT_GE(models, 40);
  for (const char* provider : {"openai", "anthropic", "gemini"}) {
    EXPECT_NE(t.source(provider), nullptr) << provider;
  }
  // Anthropic's 5-minute cache writes are 1.25x input, reads 0.1x.
  const Price* haiku = t.find("anthropic", "claude-haiku-4-5");
  ASSERT_NE(haiku, nullptr);
  EXPECT_DOUBLE_EQ(haiku->rates.cache_write, 1.25 * haiku->rates.input);
  EXPECT_DOUBLE_EQ(haiku->rates.cached_input, 0.1 * haiku->rates.input);
}

TEST(Cost, TablesAreReadFromManyThreadsWithoutLocks) {
  std::vector<std::thread> threads;
  std::vector<double> sums(4, 0);
  for (std::size_t i = 0; i < sums.size(); ++i) {
    threads.emplace_back([&sums, i] {
      for (int n = 0; n < 2000; ++n) {
        const Price* p = PriceTable::builtin().find("openai", "gpt-4o-2024-08-06");
        if (p != nullptr) sums[i] += *cost_usd(*p, usage(1000, 0, 0, 100, 0));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const double s : sums) EXPECT_NEAR(s, 2000 * (1000 * 2.5 + 100 * 10.0) / 1e6, 1e-9);
}
