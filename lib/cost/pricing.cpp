#include "cost/pricing.h"

#include <simdjson.h>

#include <array>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/text_file.h"
#include "core/utf8.h"

// From the assembler file CMake generates (lib/tokenize/embedded_data.S.in),
// which .incbin's data/prices.json into the library.
extern "C" const char llmkit_data_prices_json[], llmkit_data_prices_json_end[];

namespace llmkit::cost {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Rates are per million tokens, as every provider publishes them.
constexpr double kTokensPerRate = 1e6;

constexpr std::array<std::string_view, 5> kRateKeys = {"input", "cached_input", "cache_write",
                                                       "output", "reasoning"};

// The entry an error is about, so a message points into the file.
struct Where {
  explicit Where(std::string text) : what(std::move(text)) {}

  std::string what;  // "price file 'x.json'", "the built-in price table ..."
  std::string_view provider;
  std::string_view model;
  bool tier = false;

  std::string str() const {
    std::string s = what;
    if (!provider.empty()) s += ", provider " + utf8::quote(provider);
    if (!model.empty()) s += ", model " + utf8::quote(model);
    if (tier) s += ", tier \"above\"";
    return s;
  }
};

[[noreturn]] void bad(const Where& at, const std::string& problem) {
  fail(LLMKIT_INVALID_ARGUMENT, at.str() + ": " + problem);
}

std::string shown(element e) {
  return utf8::quote(simdjson::to_string(e), 40);
}

// Reads every value of `v`, so that On Demand meets any syntax error.
simdjson::error_code walk(simdjson::ondemand::value v) {
  using simdjson::ondemand::json_type;
  json_type type{};
  if (const auto err = v.type().get(type)) return err;
  switch (type) {
    case json_type::object: {
      simdjson::ondemand::object o;
      if (const auto err = v.get_object().get(o)) return err;
      for (auto field : o) {
        std::string_view key;
        simdjson::ondemand::value value;
        if (const auto err = field.unescaped_key().get(key)) return err;
        if (const auto err = field.value().get(value)) return err;
        if (const auto err = walk(value)) return err;
      }
      return simdjson::SUCCESS;
    }
    case json_type::array: {
      simdjson::ondemand::array a;
      if (const auto err = v.get_array().get(a)) return err;
      for (auto item : a) {
        simdjson::ondemand::value value;
        if (const auto err = item.get(value)) return err;
        if (const auto err = walk(value)) return err;
      }
      return simdjson::SUCCESS;
    }
    case json_type::number:
      return v.get_double().error();
    case json_type::string:
      return v.get_string().error();
    case json_type::boolean:
      return v.get_bool().error();
    case json_type::null:
      return v.is_null().error();
  }
  return simdjson::SUCCESS;
}

// "line L, column C" at or just after the syntax error in `text`, found by
// reading it again with On Demand, since the DOM parser reports no position;
// empty when On Demand cannot say either.
std::string error_position(std::string_view text) {
  const simdjson::padded_string padded(text);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::value root;
  // A document that fails to iterate (an unclosed string, bad UTF-8) has
  // no position to ask for.
  if (parser.iterate(padded).get(doc)) return {};
  if (!doc.get_value().get(root)) (void)walk(root);
  const char* stop = nullptr;
  if (doc.current_location().get(stop) || stop < padded.data() ||
      stop >= padded.data() + text.size()) {
    return "the end of the text";
  }
  const auto offset = static_cast<std::size_t>(stop - padded.data());
  std::size_t line = 1;
  std::size_t column = 1;
  for (const char c : text.substr(0, offset)) {
    line += c == '\n' ? 1 : 0;
    column = c == '\n' ? 1 : column + 1;
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

object as_object(element e, const Where& at, std::string_view what) {
  object o;
  if (!e.is_object() || e.get_object().get(o)) {
    bad(at, std::string(what) + " must be a JSON object, got " + shown(e));
  }
  return o;
}

std::string_view as_name(element e, const Where& at, std::string_view what) {
  std::string_view s;
  if (!e.is_string() || e.get_string().get(s) || s.empty()) {
    bad(at, std::string(what) + " must be a non-empty string, got " + shown(e));
  }
  return s;
}

[[noreturn]] void unknown(const Where& at, std::string_view key, std::string_view known) {
  bad(at, "unknown member " + utf8::quote(key) + " (known: " + std::string(known) + ")");
}

[[noreturn]] void twice(const Where& at, std::string_view key) {
  bad(at, "member " + utf8::quote(key) + " appears twice");
}

// The rates named in one model entry or tier; an absent one is nullopt.
using RateSet = std::array<std::optional<double>, kRateKeys.size()>;

// Reads `key` into `set` when it names a rate; false when it does not.
bool take_rate(RateSet& set, std::string_view key, element value, const Where& at) {
  for (std::size_t i = 0; i < kRateKeys.size(); ++i) {
    if (key != kRateKeys[i]) continue;
    if (set[i]) twice(at, key);
    double d = 0;
    if (value.is_int64()) {
      d = static_cast<double>(value.get_int64().value_unsafe());
    } else if (value.is_uint64()) {
      d = static_cast<double>(value.get_uint64().value_unsafe());
    } else if (value.is_double()) {
      d = value.get_double().value_unsafe();
    } else {
      bad(at, "\"" + std::string(key) + "\" must be a number (USD per million tokens), got " +
                  shown(value));
    }
    if (d < 0) bad(at, "\"" + std::string(key) + "\" must be >= 0, got " + shown(value));
    set[i] = d;
    return true;
  }
  return false;
}

// The rates a provider does not list separately cost what the tokens
// would cost without the feature: cache reads and writes the input rate,
// reasoning the output rate.
Rates complete(const RateSet& set, const Where& at) {
  if (!set[0]) bad(at, "\"input\" is missing");
  if (!set[3]) bad(at, "\"output\" is missing");
  Rates r;
  r.input = *set[0];
  r.cached_input = set[1].value_or(r.input);
  r.cache_write = set[2].value_or(r.input);
  r.output = *set[3];
  r.reasoning = set[4].value_or(r.output);
  return r;
}

void read_tier(element e, const Where& model_at, Price& price) {
  Where at = model_at;
  at.tier = true;
  RateSet set;
  std::optional<std::int64_t> above;
  for (const auto field : as_object(e, at, "the tier")) {
    if (take_rate(set, field.key, field.value, at)) continue;
    if (field.key != "prompt_tokens") {
      unknown(at, field.key, "prompt_tokens, input, cached_input, cache_write, output, reasoning");
    }
    if (above) twice(at, field.key);
    std::int64_t n = 0;
    if (!field.value.is_int64() || field.value.get_int64().get(n) || n <= 0) {
      bad(at, "\"prompt_tokens\" must be a whole number of tokens > 0, got " + shown(field.value));
    }
    above = n;
  }
  if (!above) bad(at, "\"prompt_tokens\" is missing");
  price.long_above = *above;
  price.long_rates = complete(set, at);
}

struct Entry {
  Price price;
  std::vector<std::string_view> aliases;
};

Entry read_model(element e, const Where& at) {
  Entry out;
  RateSet set;
  bool tier = false;
  bool aliases = false;
  for (const auto field : as_object(e, at, "the model entry")) {
    if (take_rate(set, field.key, field.value, at)) continue;
    if (field.key == "above") {
      if (tier) twice(at, field.key);
      tier = true;
      read_tier(field.value, at, out.price);
    } else if (field.key == "aliases") {
      if (aliases) twice(at, field.key);
      aliases = true;
      simdjson::dom::array list;
      if (!field.value.is_array() || field.value.get_array().get(list)) {
        bad(at, "\"aliases\" must be an array of model names, got " + shown(field.value));
      }
      for (const element name : list) out.aliases.push_back(as_name(name, at, "an alias"));
    } else {
      unknown(at, field.key, "input, cached_input, cache_write, output, reasoning, above, aliases");
    }
  }
  out.price.rates = complete(set, at);
  return out;
}

bool is_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
}

Source read_source(element e, const Where& at) {
  std::optional<std::string_view> url;
  std::optional<std::string_view> read;
  for (const auto field : as_object(e, at, "\"source\"")) {
    std::optional<std::string_view>* slot = nullptr;
    if (field.key == "url") {
      slot = &url;
    } else if (field.key == "read") {
      slot = &read;
    } else {
      unknown(at, field.key, "url, read");
    }
    if (*slot) twice(at, field.key);
    *slot = as_name(field.value, at, "\"source\"." + std::string(field.key));
  }
  if (!url) bad(at, R"("source" has no "url")");
  if (!read || !is_date(*read)) {
    bad(at, R"("source" needs "read": the date the prices were read, as YYYY-MM-DD)");
  }
  return {make_string(*url), make_string(*read)};
}

bool all_digits(std::string_view s) {
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

// `model` without a trailing "-latest", "-YYYYMMDD" (Anthropic) or
// "-YYYY-MM-DD" (OpenAI); `model` itself when it has none. Years start
// with "20" so that version numbers ("-0613", "-001") are left alone.
std::string_view without_snapshot(std::string_view model) {
  constexpr std::string_view kLatest = "-latest";
  if (model.size() > kLatest.size() && model.ends_with(kLatest)) {
    return model.substr(0, model.size() - kLatest.size());
  }
  const auto cut = [&](std::size_t n) { return model.substr(0, model.size() - n); };
  const auto tail = [&](std::size_t n) { return model.substr(model.size() - n); };
  // "-20250929": 9 bytes.
  if (model.size() > 9 && tail(9).starts_with("-20") && all_digits(tail(8))) return cut(9);
  // "-2024-08-06": 11 bytes.
  if (model.size() > 11 && tail(11).starts_with("-20")) {
    const std::string_view d = tail(10);
    if (all_digits(d.substr(0, 4)) && d[4] == '-' && all_digits(d.substr(5, 2)) && d[7] == '-' &&
        all_digits(d.substr(8, 2))) {
      return cut(11);
    }
  }
  return model;
}

}  // namespace

void PriceTable::merge(std::string_view json, std::string_view what) {
  simdjson::dom::parser parser;
  Where at(std::string{what});
  element doc;
  if (const auto err = parser.parse(json.data(), json.size()).get(doc)) {
    const std::string near = error_position(json);
    bad(at, "not valid JSON" + (near.empty() ? "" : " near " + near) + ": " +
                simdjson::error_message(err));
  }
  // A name given twice in one text is a mistake in it; a name from the base
  // is meant to be replaced.
  std::set<std::string_view> seen_providers;
  for (const auto provider : as_object(doc, at, "the top level (keyed by provider)")) {
    at.provider = provider.key;
    at.model = {};
    if (provider.key.empty()) bad(at, "a provider name is empty");
    if (!seen_providers.insert(provider.key).second) bad(at, "the provider appears twice");

    std::optional<Source> source;
    std::optional<element> models;
    for (const auto field : as_object(provider.value, at, "the provider entry")) {
      if (field.key == "source") {
        if (source) twice(at, field.key);
        source = read_source(field.value, at);
      } else if (field.key == "models") {
        if (models) twice(at, field.key);
        models = field.value;
      } else {
        unknown(at, field.key, "source, models");
      }
    }
    if (!models) bad(at, "\"models\" is missing");

    auto it = providers_.find(provider.key);
    if (it == providers_.end()) {
      it = providers_.emplace(make_string(provider.key), Provider{}).first;
    }
    Provider& dest = it->second;
    if (source) dest.source = std::move(source);

    // A name means one entry, the one the last text to give it decides: a
    // model replaces an alias of that name and an alias a model.
    std::set<std::string_view> seen_names;
    const auto claim = [&](std::string_view name) {
      if (!seen_names.insert(name).second) {
        bad(at, "the name " + utf8::quote(name) + " is given to two entries");
      }
    };
    for (const auto model : as_object(*models, at, "\"models\"")) {
      at.model = model.key;
      if (model.key.empty()) bad(at, "a model name is empty");
      const Entry entry = read_model(model.value, at);
      claim(model.key);
      if (const auto a = dest.aliases.find(model.key); a != dest.aliases.end()) {
        dest.aliases.erase(a);
      }
      dest.models.insert_or_assign(make_string(model.key), entry.price);
      for (const std::string_view alias : entry.aliases) {
        claim(alias);
        if (const auto m = dest.models.find(alias); m != dest.models.end()) dest.models.erase(m);
        dest.aliases.insert_or_assign(make_string(alias), make_string(model.key));
      }
    }
  }
}

const PriceTable& PriceTable::builtin() {
  // Never destroyed: threads still pricing calls at exit may hold it.
  static const PriceTable* const table = [] {
    auto* t = create<PriceTable>();
    try {
      t->merge(std::string_view(
                   llmkit_data_prices_json,
                   static_cast<std::size_t>(llmkit_data_prices_json_end - llmkit_data_prices_json)),
               "the built-in price table (data/prices.json)");
    } catch (...) {
      destroy(t);
      throw;
    }
    return t;
  }();
  return *table;
}

PriceTable PriceTable::load(std::string_view json_or_path, const PriceTable* base) {
  PriceTable out = base != nullptr ? *base : PriceTable{};
  const std::string what = is_json_text(json_or_path)
                               ? "the price JSON"
                               : "price file " + utf8::quote(json_or_path, 200);
  out.merge(json_text_or_file(json_or_path, "price"), what);
  return out;
}

const Price* PriceTable::lookup(const Provider& p, std::string_view name) {
  auto m = p.models.find(name);
  if (m == p.models.end()) {
    const auto a = p.aliases.find(name);
    if (a == p.aliases.end()) return nullptr;
    m = p.models.find(a->second);  // gone when a later text gave its name to an alias
    if (m == p.models.end()) return nullptr;
  }
  return &m->second;
}

const Price* PriceTable::find(std::string_view provider, std::string_view model) const {
  const auto p = providers_.find(provider);
  if (p == providers_.end()) return nullptr;
  if (const Price* price = lookup(p->second, model)) return price;
  const std::string_view base = without_snapshot(model);
  return base.size() == model.size() ? nullptr : lookup(p->second, base);
}

const Source* PriceTable::source(std::string_view provider) const {
  const auto p = providers_.find(provider);
  if (p == providers_.end() || !p->second.source) return nullptr;
  return &*p->second.source;
}

void PriceTable::for_each(
    const std::function<void(std::string_view, std::string_view, const Price&)>& fn) const {
  for (const auto& [provider, entry] : providers_) {
    for (const auto& [model, price] : entry.models) fn(provider, model, price);
    for (const auto& [alias, model] : entry.aliases) {
      if (const Price* price = lookup(entry, alias)) fn(provider, alias, *price);
    }
  }
}

std::optional<double> cost_usd(const Price& price, const providers::Usage& usage) {
  const providers::Usage& u = usage;
  if (u.input < 0 || u.output < 0 || u.cached_input < 0 || u.cache_write < 0 || u.reasoning < 0 ||
      u.cache_write > u.input || u.cached_input > u.input - u.cache_write ||
      u.reasoning > u.output) {
    return std::nullopt;
  }
  const Rates& r = price.rates_for(u.input);
  const auto tokens = [](std::int64_t n) { return static_cast<double>(n); };
  const double per_million =
      tokens(u.input - u.cached_input - u.cache_write) * r.input +
      tokens(u.cached_input) * r.cached_input + tokens(u.cache_write) * r.cache_write +
      tokens(u.output - u.reasoning) * r.output + tokens(u.reasoning) * r.reasoning;
  return per_million / kTokensPerRate;
}

}  // namespace llmkit::cost
