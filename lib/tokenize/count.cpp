#include "tokenize/count.h"

#include <simdjson.h>

#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "core/utf8.h"
#include "tokenize/catalog.h"

namespace llmkit::tokenize {

void count_batch(const Encoding& enc, std::span<const std::string_view> texts, SpecialMode mode,
                 std::span<std::size_t> counts) {
  std::vector<std::exception_ptr> errors(texts.size());
  parallel_for(texts.size(), [&](std::size_t i) {
    try {
      counts[i] = enc.count(texts[i], mode);
    } catch (...) {
      counts[i] = 0;
      errors[i] = std::current_exception();
    }
  });
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i]) continue;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const Error& e) {
      fail(e.status(), "text " + std::to_string(i) + ": " + e.what());
    }
  }
}

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// The constants of OpenAI's published counting recipe ("How to count tokens
// with tiktoken", OpenAI Cookbook): per message, per name, reply priming,
// and the tool-definition overheads, which differ between the cl100k and
// the o200k model generations.
struct ChatRules {
  long per_message = 3;
  long per_name = 1;
  long reply_priming = 3;
  long func_init = 7, prop_init = 3, prop_key = 3, enum_init = -3, enum_item = 3, func_end = 12;
};

ChatRules rules_for(std::string_view model, std::string_view encoding) {
  ChatRules r;
  if (model == "gpt-3.5-turbo-0301") {
    r.per_message = 4;
    r.per_name = -1;
  }
  if (encoding == "cl100k_base") r.func_init = 10;
  return r;
}

element parse(simdjson::dom::parser& parser, std::string_view json, const char* what) {
  element doc;
  if (const auto err = parser.parse(json.data(), json.size()).get(doc)) {
    fail(LLMKIT_INVALID_ARGUMENT,
         std::string(what) + " is not valid JSON: " + simdjson::error_message(err));
  }
  return doc;
}

std::string_view string_field(object o, const char* key) {
  std::string_view s;
  return o[key].get(s) ? std::string_view() : s;
}

long text_tokens(const Encoding& enc, std::string_view s) {
  // Message text is data to the API, so special-token spellings are text.
  return static_cast<long>(enc.count(s, SpecialMode::kAsText));
}

long message_tokens(const Encoding& enc, const ChatRules& r, object message, std::size_t index) {
  long n = r.per_message;
  for (auto [key, value] : message) {
    std::string_view s;
    if (!value.get(s)) {
      n += text_tokens(enc, s);
      if (key == "name") n += r.per_name;
      continue;
    }
    array items;
    if (value.get(items)) continue;  // null content, numbers: nothing to count
    for (element item : items) {
      object part;
      if (item.get(part)) continue;
      if (key == "tool_calls") {
        object fn;
        if (!part["function"].get(fn)) {
          n += text_tokens(enc, string_field(fn, "name")) +
               text_tokens(enc, string_field(fn, "arguments"));
        }
        continue;
      }
      const std::string_view type = string_field(part, "type");
      if (type == "text") {
        n += text_tokens(enc, string_field(part, "text"));
      } else {
        fail(LLMKIT_UNSUPPORTED, "message " + std::to_string(index) + " has a " +
                                     utf8::quote(type) +
                                     " part: only text parts can be counted offline");
      }
    }
  }
  return n;
}

std::string_view without_final_period(std::string_view s) {
  return s.ends_with('.') ? s.substr(0, s.size() - 1) : s;
}

long tools_tokens(const Encoding& enc, const ChatRules& r, array tools) {
  long n = 0;
  for (element tool : tools) {
    object fn;
    if (tool["function"].get(fn)) {
      fail(LLMKIT_INVALID_ARGUMENT, "every tool needs a \"function\" object");
    }
    n += r.func_init;
    std::string line(string_field(fn, "name"));
    line += ':';
    line += without_final_period(string_field(fn, "description"));
    n += text_tokens(enc, line);
    object props;
    if (fn["parameters"]["properties"].get(props) || props.size() == 0) continue;
    n += r.prop_init;
    for (auto [name, prop_value] : props) {
      object prop;
      if (prop_value.get(prop)) continue;
      n += r.prop_key;
      array values;
      if (!prop["enum"].get(values)) {
        n += r.enum_init;
        for (element v : values) {
          std::string_view s;
          n += r.enum_item + (v.get(s) ? 0 : text_tokens(enc, s));
        }
      }
      std::string p(name);
      p += ':';
      p += string_field(prop, "type");
      p += ':';
      p += without_final_period(string_field(prop, "description"));
      n += text_tokens(enc, p);
    }
  }
  return tools.size() > 0 ? n + r.func_end : n;
}

}  // namespace

std::size_t count_chat(std::string_view model, std::string_view messages_json,
                       std::string_view tools_json) {
  const std::string_view encoding_name = encoding_for_model(model);
  const Encoding& enc = encoding(encoding_name);
  const ChatRules r = rules_for(model, encoding_name);
  simdjson::dom::parser parser;
  array messages;
  if (parse(parser, messages_json, "messages").get(messages)) {
    fail(LLMKIT_INVALID_ARGUMENT, "messages must be a JSON array of message objects");
  }
  long n = r.reply_priming;
  std::size_t index = 0;
  for (element m : messages) {
    object message;
    if (m.get(message)) {
      fail(LLMKIT_INVALID_ARGUMENT, "message " + std::to_string(index) + " is not an object");
    }
    n += message_tokens(enc, r, message, index++);
  }
  if (!tools_json.empty()) {
    simdjson::dom::parser tools_parser;
    array tools;
    if (parse(tools_parser, tools_json, "tools").get(tools)) {
      fail(LLMKIT_INVALID_ARGUMENT, "tools must be a JSON array");
    }
    n += tools_tokens(enc, r, tools);
  }
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::optional<Estimate> find_estimate(std::string_view model, std::string_view text) {
  std::string_view name = model;
  if (const std::size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name = name.substr(slash + 1);  // "anthropic/claude-3-5-sonnet"
  }
  if (const std::optional<std::string_view> exact = find_encoding_for_model(name)) {
    return Estimate{encoding(*exact).count(text, SpecialMode::kAsText), true};
  }
  for (const std::string_view family : {"claude", "gemini", "gemma"}) {
    if (name.starts_with(family)) {
      return Estimate{encoding("o200k_base").count(text, SpecialMode::kAsText), false};
    }
  }
  return std::nullopt;
}

Estimate estimate(std::string_view model, std::string_view text) {
  if (std::optional<Estimate> e = find_estimate(model, text)) return *e;
  fail(LLMKIT_NOT_FOUND, "no tokenizer or estimate is known for model " + utf8::quote(model));
}

}  // namespace llmkit::tokenize
