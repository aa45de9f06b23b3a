// What every provider does alike when it builds a request or reads an
// answer: JSON bodies, the pass-through "extra" object, stream decoders
// over SSE or NDJSON framing.
#pragma once

#include <simdjson.h>

#include <memory>
#include <optional>
#include <string_view>

#include "providers/provider.h"
#include "stream/ndjson.h"
#include "stream/sse.h"

namespace llmkit::providers {

// A POST of the JSON `body` to `url`; `extra` (a JSON object text, may be
// empty) is merged in first: its members replace the body's, objects
// merging member by member.
http::Request post_json(std::string_view url, String body, std::string_view extra);
void add_header(http::Request& request, std::string_view name, std::string_view value);
// "Authorization: Bearer KEY" when the endpoint has a key (OpenAI and the
// servers speaking its format, Ollama behind a proxy); nothing otherwise.
void add_bearer(http::Request& request, const Endpoint& endpoint);

// Parses a provider's answer: PROVIDER_ERROR when it is not JSON.
simdjson::dom::element parse_answer(simdjson::dom::parser& parser, std::string_view body);
// The parser for an answer of `size` bytes: the calling thread's, kept for
// its next answer (making one per answer was 4% of a bare call's
// instructions, callgrind over make bench's pipeline/full/baseline), or,
// above 1 MiB, one made in `own`, so that no thread keeps that much.
simdjson::dom::parser& answer_parser(std::size_t size, std::optional<simdjson::dom::parser>& own);

// The body {"model":..., "input":[...], "dimensions":...} that OpenAI's
// /embeddings and Ollama's /api/embed both take; OpenAI's also asks for
// floats ("encoding_format"), not base64.
String inputs_body(const EmbedRequest& request, bool encoding_format);
// PROVIDER_ERROR unless an answer holds one embedding per input.
void require_count(std::size_t got, std::size_t inputs);
// A tool call that arrives whole (Gemini, Ollama): its arguments object as
// compact JSON, and "call_N" (N = `index`) when the provider gave no id.
ToolCall whole_call(std::string_view id, std::string_view name, simdjson::dom::element args,
                    std::size_t index);

// The array `key` of an embeddings answer: PROVIDER_ERROR when `doc` has none.
simdjson::dom::array embeddings_array(simdjson::dom::element doc, std::string_view key);

// Reads a JSON array of numbers into `out`: PROVIDER_ERROR for anything else.
void read_vector(simdjson::dom::element array, Vector<float>& out);

// Where a reader of parts that arrive whole (Gemini's, Ollama's) puts them:
// straight into a whole answer, or through a Decoder out as pieces too.
class Parts {
 public:
  virtual ~Parts() = default;
  virtual void piece(std::string_view text, bool reasoning) = 0;
  virtual void call(ToolCall call) = 0;
};

class AnswerParts final : public Parts {
 public:
  explicit AnswerParts(Response& out) : out_(out) {}
  void piece(std::string_view text, bool reasoning) override {
    (reasoning ? out_.reasoning : out_.text).append(text.data(), text.size());
  }
  void call(ToolCall call) override { out_.tool_calls.push_back(std::move(call)); }

 private:
  Response& out_;
};

// The common half of every provider's stream decoder: framing (SSE or
// JSON lines), JSON parsing of each event, and accumulating pieces into the
// response. Each provider reads the events.
class Decoder : public StreamDecoder,
                public Parts,
                private stream::SseParser::Handler,
                private stream::NdjsonParser::Handler {
 public:
  enum class Framing { kSse, kNdjson };
  Decoder(Framing framing, Response& out, DeltaFn on_delta)
      : out_(out), framing_(framing), on_delta_(std::move(on_delta)) {}
  void feed(std::string_view bytes) final;
  bool done() const final { return done_; }
  void piece(std::string_view text, bool reasoning) final {
    this->text(reasoning ? Delta::kReasoning : Delta::kText, text);
  }
  void call(ToolCall c) final {
    const std::size_t index = out_.tool_calls.size();
    tool_call(static_cast<std::int64_t>(index), c.id, c.name, c.arguments);
    out_.tool_calls[index].signature = std::move(c.signature);
  }

 protected:
  // One event's JSON data (`event` is "" for a JSON line or an unnamed event).
  virtual void on_json(std::string_view event, simdjson::dom::element data) = 0;
  // An event whose data is not JSON ("[DONE]"): PROVIDER_ERROR unless overridden.
  virtual void on_text(std::string_view event, std::string_view data);
  // Appends a text or reasoning piece and passes it on.
  void text(Delta::Kind kind, std::string_view piece);
  // Appends to tool call `index` (created on its first piece) and passes it on.
  void tool_call(std::int64_t index, std::string_view id, std::string_view name,
                 std::string_view arguments);

  Response& out_;
  bool done_ = false;

 private:
  void on_event(std::string_view event, std::string_view data) final;
  void on_line(std::string_view line) final { on_event({}, line); }
  void emit(const Delta& d);

  Framing framing_;
  DeltaFn on_delta_;
  stream::SseParser sse_;
  stream::NdjsonParser ndjson_;
  simdjson::dom::parser parser_;
};

}  // namespace llmkit::providers
