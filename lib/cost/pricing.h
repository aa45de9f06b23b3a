// What a call cost: per-million-token prices by provider and model, from
// the table built into the library (data/prices.json) and JSON overrides
// of the same shape (docs/cost.md).
//
// Money is a double in US dollars, not integer micro-dollars: published
// rates go down to $0.005 per million tokens (0.005 micro-dollars a token),
// and a 100-token gpt-5-nano prompt costs 5 micro-dollars, so rounding each
// call to whole micro-dollars would be off by up to 10% on the cheap models
// and the sum over many calls would drift from the bill. A double keeps
// about 15 significant digits of every call and of their sum.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>

#include "core/alloc.h"
#include "providers/response.h"

namespace llmkit::cost {

// USD per million tokens for each class of a call's tokens. The classes do
// not overlap (providers::Usage counts cached and cache-write tokens inside
// input, reasoning inside output; cost_usd takes them out again).
struct Rates {
  double input = 0;         // prompt tokens neither read from nor written to a cache
  double cached_input = 0;  // prompt tokens read from a cache
  double cache_write = 0;   // prompt tokens written to a cache
  double output = 0;        // generated tokens that are not reasoning
  double reasoning = 0;     // reasoning (thinking) tokens
};

struct Price {
  Rates rates;
  // A call whose prompt (usage.input) has more than `long_above` tokens
  // pays `long_rates` on all its tokens, output included; 0: one tier.
  std::int64_t long_above = 0;
  Rates long_rates;

  const Rates& rates_for(std::int64_t prompt_tokens) const noexcept {
    return long_above > 0 && prompt_tokens > long_above ? long_rates : rates;
  }
};

// Where a provider's prices were read, as the table states it.
struct Source {
  String url;
  String read;  // the date, YYYY-MM-DD
};

// Immutable once made, so any thread may read one without locks.
class PriceTable {
 public:
  // The table built into the library, parsed on first use and kept.
  static const PriceTable& builtin();

  // Parses JSON text (when the first non-blank character is '{' or '[')
  // or the file at that path, over a copy of `base` when given: each model
  // named there replaces that model whole or adds it, and the aliases of a
  // model follow it; a "source" replaces the provider's source.
  // INVALID_ARGUMENT naming the file and the entry (or the line and column
  // of a syntax error) for unreadable files, malformed JSON, unknown or
  // repeated members, missing rates and rates that are not numbers >= 0.
  static PriceTable load(std::string_view json_or_path, const PriceTable* base = nullptr);

  // The price of `model` at `provider`: the entry (or alias) named exactly
  // `model`, else the one named `model` without a trailing snapshot date
  // ("-2024-08-06", "-20250929") or "-latest". nullptr when neither is
  // known: no price, which is not a price of zero.
  const Price* find(std::string_view provider, std::string_view model) const;

  // nullptr when the provider is unknown or its table states no source.
  const Source* source(std::string_view provider) const;

  // Calls fn(provider, name, price) for every model, then every alias, of
  // each provider in turn.
  void for_each(
      const std::function<void(std::string_view, std::string_view, const Price&)>& fn) const;

 private:
  template <class V>
  using Map = std::map<String, V, std::less<>, Allocator<std::pair<const String, V>>>;
  struct Provider {
    std::optional<Source> source;
    Map<Price> models;
    Map<String> aliases;  // alias -> model name, so an alias follows its model's overrides
  };
  Map<Provider> providers_;

  static const Price* lookup(const Provider& p, std::string_view name);

  void merge(std::string_view json, std::string_view what);
};

// The USD cost of a call with `usage` at `price`: every token class at its
// own rate, each token counted once. nullopt when the counts contradict
// each other (negative, cached + cache_write above input, reasoning above
// output), since any number would then be a guess.
std::optional<double> cost_usd(const Price& price, const providers::Usage& usage);

}  // namespace llmkit::cost
