#include "cache/embeddings.h"

#include <algorithm>
#include <array>
#include <string>

#include "core/error.h"
#include "core/json.h"

namespace llmkit::cache {

namespace {

using simdjson::dom::element;

// The request fields that are not part of an input's key: "input" itself,
// and those that never change an answer.
constexpr auto kNotParameters = [] {
  std::array<std::string_view, kIgnoredFields.size() + 1> a{};
  std::copy(kIgnoredFields.begin(), kIgnoredFields.end(), a.begin());
  a.back() = "input";
  return a;
}();

[[noreturn]] void bad_answer(const std::string& why) {
  fail(LLMKIT_PROVIDER_ERROR, "embeddings answer: " + why);
}

// The inputs of a request: one string, one token array, or an array of
// either.
std::vector<element> inputs_of(element request) {
  element input;
  if (!request.is_object() || request["input"].get(input)) {
    fail(LLMKIT_INVALID_ARGUMENT, "the embeddings request has no \"input\"");
  }
  if (input.is_string()) return {input};
  simdjson::dom::array items;
  if (input.get(items) || items.size() == 0) {
    fail(LLMKIT_INVALID_ARGUMENT, "\"input\" must be a string or a non-empty array");
  }
  const bool tokens = std::all_of(items.begin(), items.end(),
                                  [](element e) { return e.is_int64() || e.is_uint64(); });
  if (tokens) return {input};
  std::vector<element> out;
  for (const element item : items) {
    if (!item.is_string() && !item.is_array()) {
      fail(LLMKIT_INVALID_ARGUMENT,
           "each \"input\" item must be a string or an array of token ids");
    }
    out.push_back(item);
  }
  return out;
}

}  // namespace

EmbeddingBatch::EmbeddingBatch(Cache& cache, std::string_view scope, std::string_view provider,
                               std::string_view request_json)
    : cache_(cache), request_(make_string(request_json)) {
  simdjson::dom::parser parser;
  const element request =
      json::parse(parser, std::string_view(request_.data(), request_.size()), "the request");
  const std::vector<element> inputs = inputs_of(request);

  thread_local Canonical canonical;
  canonical.begin("embedding", scope, provider);
  canonical.add(request, kNotParameters);
  const std::size_t shared = canonical.size();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    canonical.truncate(shared);
    canonical.add(inputs[i]);
    keys_.push_back(canonical.hash());
    found_.push_back(cache_.get(keys_.back()));
    if (!found_.back()) misses_.push_back(i);
  }
  if (misses_.empty()) return;

  // The original request, field for field, with only the misses as input.
  upstream_ = "{";
  const simdjson::dom::object fields = request.get_object().value_unsafe();
  for (const auto field : fields) {
    if (upstream_.size() > 1) upstream_ += ',';
    json::append_string(upstream_, field.key);
    upstream_ += ':';
    if (field.key != "input") {
      json::append_element(upstream_, field.value);
      continue;
    }
    upstream_ += '[';
    for (const std::size_t i : misses_) {
      if (i != misses_.front()) upstream_ += ',';
      json::append_element(upstream_, inputs[i]);
    }
    upstream_ += ']';
  }
  upstream_ += '}';
}

std::string_view EmbeddingBatch::complete(std::string_view upstream_response, std::int64_t ttl_ns) {
  simdjson::dom::parser parser;
  simdjson::dom::parser request_parser;
  const element request =
      json::parse(request_parser, std::string_view(request_.data(), request_.size()), "request");
  String model;
  String usage = make_string(R"({"prompt_tokens":0,"total_tokens":0})");
  element model_field;
  if (!request["model"].get(model_field)) {
    model.clear();
    json::append_element(model, model_field);
  }

  if (misses_.empty()) {
    if (!upstream_response.empty()) {
      fail(LLMKIT_INVALID_ARGUMENT, "every input was cached: there is no upstream answer to take");
    }
  } else {
    if (upstream_response.empty()) {
      fail(LLMKIT_INVALID_ARGUMENT,
           std::to_string(misses_.size()) + " inputs missed: the upstream answer is needed");
    }
    element answer;
    if (parser.parse(upstream_response.data(), upstream_response.size()).get(answer)) {
      bad_answer("not valid JSON");
    }
    element error;
    if (!answer["error"].get(error))
      bad_answer("the provider answered with an error: " + simdjson::to_string(error));
    simdjson::dom::array data;
    if (answer["data"].get(data)) bad_answer("no \"data\" array");
    if (data.size() != misses_.size()) {
      bad_answer(std::to_string(data.size()) + " embeddings for " + std::to_string(misses_.size()) +
                 " inputs");
    }
    std::vector<bool> seen(misses_.size());
    std::size_t position = 0;
    for (const element item : data) {
      // "index" says which input an item answers; without it, order does.
      std::uint64_t index = position++;
      element index_field;
      if (!item["index"].get(index_field) && index_field.get(index)) bad_answer("bad \"index\"");
      if (index >= misses_.size() || seen[index]) bad_answer("bad or repeated \"index\"");
      seen[index] = true;
      element embedding;
      if (item["embedding"].get(embedding)) bad_answer("an item has no \"embedding\"");
      const std::string text = simdjson::to_string(embedding);
      const std::size_t input = misses_[index];
      cache_.put(keys_[input], text, ttl_ns);
      found_[input] = ValueRef(Value::make(text));
    }
    if (!answer["model"].get(model_field)) {
      model.clear();
      json::append_element(model, model_field);
    }
    element usage_field;
    if (!answer["usage"].get(usage_field)) {
      usage.clear();
      json::append_element(usage, usage_field);
    }
  }

  response_ = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < found_.size(); ++i) {
    if (i != 0) response_ += ',';
    response_ += R"({"object":"embedding","index":)";
    response_ += std::to_string(i);
    response_ += R"(,"embedding":)";
    const std::string_view e = found_[i]->bytes();
    response_.append(e.data(), e.size());
    response_ += '}';
  }
  response_ += "]";
  if (!model.empty()) {
    response_ += R"(,"model":)";
    response_ += model;
  }
  response_ += R"(,"usage":)";
  response_ += usage;
  response_ += '}';
  return {response_.data(), response_.size()};
}

}  // namespace llmkit::cache
