#include "cache/replay.h"

#include <simdjson.h>

#include <string>

#include "core/error.h"
#include "core/json.h"

namespace llmkit::cache {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// The longest prefix of `s` of at most `max` bytes that ends on a UTF-8
// character boundary (at least one whole character).
std::size_t piece_length(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s.size();
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  if (n > 0) return n;
  n = 1;  // one character longer than max
  while (n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) ++n;
  return n;
}

class Writer {
 public:
  Writer(object completion, std::vector<String, Allocator<String>>& out) : out_(out) {
    // Every chunk repeats the answer's id, creation time, model and
    // fingerprint, as OpenAI's do.
    head_ = R"({"id":)";
    append_field(completion, "id", R"("")");
    head_ += R"(,"object":"chat.completion.chunk","created":)";
    append_field(completion, "created", "0");
    head_ += R"(,"model":)";
    append_field(completion, "model", R"("")");
    element fingerprint;
    if (!completion["system_fingerprint"].get(fingerprint)) {
      head_ += R"(,"system_fingerprint":)";
      json::append_element(head_, fingerprint);
    }
  }

  // A chunk for choice `index` with `delta` (a JSON object's members) and
  // a finish reason (JSON text: null or a string).
  void choice(std::uint64_t index, const String& delta, std::string_view finish = "null") {
    String c = head_;
    c += R"(,"choices":[{"index":)";
    c += std::to_string(index);
    c += R"(,"delta":{)";
    c += delta;
    c += R"(},"logprobs":null,"finish_reason":)";
    c.append(finish.data(), finish.size());
    c += "}]}";
    out_.push_back(std::move(c));
  }

  void usage(element usage) {
    String c = head_;
    c += R"(,"choices":[],"usage":)";
    json::append_element(c, usage);
    c += '}';
    out_.push_back(std::move(c));
  }

 private:
  void append_field(object o, const char* name, std::string_view fallback) {
    element e;
    if (o[name].get(e)) {
      head_.append(fallback.data(), fallback.size());
    } else {
      json::append_element(head_, e);
    }
  }

  std::vector<String, Allocator<String>>& out_;
  String head_;
};

// Calls `emit` with `text` in pieces of at most `max` bytes.
template <class Emit>
void pieces(std::string_view text, std::size_t max, Emit emit) {
  while (!text.empty()) {
    const std::size_t n = piece_length(text, max);
    emit(text.substr(0, n));
    text.remove_prefix(n);
  }
}

void replay_choice(Writer& w, element choice, std::size_t max) {
  std::uint64_t index = 0;
  object message;
  if (choice["index"].get(index) || choice["message"].get(message)) {
    fail(LLMKIT_INVALID_ARGUMENT, R"(a choice has no "index" or "message")");
  }
  std::string_view content;
  const bool has_content = !message["content"].get(content);
  w.choice(index, make_string(has_content ? R"("role":"assistant","content":"")"
                                          : R"("role":"assistant","content":null)"));
  for (const char* field : {"content", "refusal"}) {
    std::string_view text;
    if (message[field].get(text)) continue;
    pieces(text, max, [&](std::string_view piece) {
      String delta = make_string("\"");
      delta += field;
      delta += "\":";
      json::append_string(delta, piece);
      w.choice(index, delta);
    });
  }
  simdjson::dom::array calls;
  if (!message["tool_calls"].get(calls)) {
    std::size_t i = 0;
    for (const element call : calls) {
      const std::string call_index = std::to_string(i++);
      object function;
      std::string_view name;
      std::string_view arguments;
      if (call["function"].get(function) || function["name"].get(name) ||
          function["arguments"].get(arguments)) {
        fail(LLMKIT_INVALID_ARGUMENT, "a tool call has no function name or arguments");
      }
      // The first chunk of a call names it; the arguments follow in pieces.
      String delta = make_string(R"("tool_calls":[{"index":)");
      delta += call_index;
      element id;
      if (!call["id"].get(id)) {
        delta += R"(,"id":)";
        json::append_element(delta, id);
      }
      delta += R"(,"type":"function","function":{"name":)";
      json::append_string(delta, name);
      delta += R"(,"arguments":""}}])";
      w.choice(index, delta);
      pieces(arguments, max, [&](std::string_view piece) {
        String d = make_string(R"("tool_calls":[{"index":)");
        d += call_index;
        d += R"(,"function":{"arguments":)";
        json::append_string(d, piece);
        d += "}}]";
        w.choice(index, d);
      });
    }
  }
  element finish;
  const std::string finish_text =
      choice["finish_reason"].get(finish) ? std::string("null") : simdjson::to_string(finish);
  w.choice(index, String(), finish_text);
}

}  // namespace

Replay::Replay(std::string_view completion_json, std::size_t piece_bytes) {
  if (piece_bytes == 0) fail(LLMKIT_INVALID_ARGUMENT, "piece_bytes must be at least 1");
  simdjson::dom::parser parser;
  const element doc = json::parse(parser, completion_json, "the completion");
  object completion;
  std::string_view kind;
  simdjson::dom::array choices;
  if (doc.get(completion) || completion["object"].get(kind) || kind != "chat.completion" ||
      completion["choices"].get(choices)) {
    fail(LLMKIT_INVALID_ARGUMENT,
         R"(not a chat completion (an object with "object": "chat.completion" and "choices"))");
  }
  Writer w(completion, chunks_);
  for (const element choice : choices) replay_choice(w, choice, piece_bytes);
  element usage;
  if (!completion["usage"].get(usage) && !usage.is_null()) w.usage(usage);
}

}  // namespace llmkit::cache
