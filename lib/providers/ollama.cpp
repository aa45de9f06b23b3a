#include "providers/ollama.h"

#include <optional>

#include "core/error.h"
#include "providers/body.h"
#include "providers/errors.h"
#include "providers/wire.h"

namespace llmkit::providers {
namespace {

using simdjson::dom::element;

// Thinking blocks and signatures stay out: only Anthropic and Gemini sign
// a turn's reasoning and need it back.
void write_message(wire::Writer& w, const Message& m) {
  static constexpr std::string_view kRoles[] = {"user", "assistant", "tool"};
  w.begin_object().field("role", kRoles[static_cast<int>(m.role)]);
  String text;
  bool images = false;
  for (const Part& p : m.parts) {
    text += p.text;
    images |= p.image.has_value();
  }
  w.field("content", text);
  if (images) {
    w.key("images").begin_array();
    for (const Part& p : m.parts) {
      if (!p.image) continue;
      if (!p.image->url.empty()) {
        fail(LLMKIT_UNSUPPORTED, "Ollama takes images inline: pass a data: URL");
      }
      w.string(p.image->base64);
    }
    w.end_array();
  }
  if (!m.tool_calls.empty()) {
    w.key("tool_calls").begin_array();
    for (const ToolCall& c : m.tool_calls) {
      w.begin_object().key("function").begin_object().field("name", c.name);
      w.key("arguments")
          .raw(c.arguments.empty() ? std::string_view("{}") : std::string_view(c.arguments));
      w.end_object().end_object();
    }
    w.end_array();
  }
  w.end_object();
}

void write_options(wire::Writer& w, const ChatRequest& r) {
  if (!r.temperature && !r.top_p && !r.max_tokens && !r.seed && r.stop.empty()) return;
  w.key("options").begin_object();
  if (r.temperature) w.key("temperature").number(*r.temperature);
  if (r.top_p) w.key("top_p").number(*r.top_p);
  if (r.max_tokens) w.key("num_predict").number(*r.max_tokens);
  if (r.seed) w.key("seed").number(*r.seed);
  if (!r.stop.empty()) {
    w.key("stop").begin_array();
    for (const String& s : r.stop) w.string(s);
    w.end_array();
  }
  w.end_object();
}

bool read_error(element doc, Response& out) {
  const std::string_view message = wire::str(doc, "error");
  if (message.empty()) return false;
  // Ollama's errors carry no type: the HTTP status classifies them.
  set_provider_error(out, {}, message);
  if (message.find("not found") != std::string_view::npos) out.status = LLMKIT_NOT_FOUND;
  return true;
}

// Reads one /api/chat object (the whole answer or one line of a stream)
// into `parts`; true for the last (done).
bool read_line(element doc, Response& out, Parts& parts) {
  if (out.model.empty()) out.model = make_string(wire::str(doc, "model"));
  const element message = wire::member(doc, "message");
  parts.piece(wire::str(message, "thinking"), true);
  parts.piece(wire::str(message, "content"), false);
  for (const element call : wire::array(message, "tool_calls")) {
    const element fn = wire::member(call, "function");
    parts.call(whole_call({}, wire::str(fn, "name"), wire::member(fn, "arguments"),
                          out.tool_calls.size()));
  }
  if (!wire::truthy(doc, "done")) return false;
  const std::string_view raw = wire::str(doc, "done_reason");
  out.finish_raw = make_string(raw);
  out.finish = raw == "length" ? LLMKIT_FINISH_LENGTH : LLMKIT_FINISH_STOP;
  if (out.finish == LLMKIT_FINISH_STOP && !out.tool_calls.empty()) {
    out.finish = LLMKIT_FINISH_TOOL_CALLS;
  }
  out.usage.input = wire::num(doc, "prompt_eval_count");
  out.usage.output = wire::num(doc, "eval_count");
  return true;
}

class OllamaDecoder final : public Decoder {
 public:
  OllamaDecoder(Response& out, DeltaFn fn) : Decoder(Framing::kNdjson, out, std::move(fn)) {}

 private:
  void on_json(std::string_view, element line) override {
    if (read_error(line, out_)) {
      done_ = true;
      return;
    }
    done_ = read_line(line, out_, *this);
  }
};

}  // namespace

http::Request Ollama::chat_request(const Endpoint& endpoint, const ChatRequest& r,
                                   std::string_view model, bool stream) const {
  String body;
  wire::Writer w(body);
  w.begin_object().field("model", model).key("messages").begin_array();
  if (!r.system.empty()) {
    w.begin_object().field("role", "system").field("content", r.system).end_object();
  }
  for (const Message& m : r.messages) write_message(w, m);
  w.end_array();
  if (!r.tools.empty()) {
    w.key("tools").begin_array();
    for (const Tool& t : r.tools) {
      w.begin_object().field("type", "function").key("function").begin_object();
      w.field("name", t.name);
      if (!t.description.empty()) w.field("description", t.description);
      if (!t.parameters.empty()) w.key("parameters").raw(t.parameters);
      w.end_object().end_object();
    }
    w.end_array();
  }
  if (r.response_format == "json") {
    w.field("format", "json");
  } else if (!r.response_format.empty() && r.response_format != "text") {
    w.key("format").raw(r.response_format);
  }
  if (r.thinking_budget) w.key("think").boolean(*r.thinking_budget > 0);
  write_options(w, r);
  w.key("stream").boolean(stream).end_object();
  http::Request req = post_json(endpoint.base_url + "/api/chat", std::move(body), r.extra);
  add_bearer(req, endpoint);
  return req;
}

void Ollama::parse(std::string_view body, Response& out) const {
  std::optional<simdjson::dom::parser> big;
  const element doc = parse_answer(answer_parser(body.size(), big), body);
  if (read_error(doc, out)) return;
  if (!wire::has(doc, "message")) {
    fail(LLMKIT_PROVIDER_ERROR, "the answer is not a chat response (no \"message\")");
  }
  AnswerParts parts(out);
  read_line(doc, out, parts);
}

std::unique_ptr<StreamDecoder> Ollama::decoder(Response& out, DeltaFn on_delta) const {
  return std::make_unique<OllamaDecoder>(out, std::move(on_delta));
}

http::Request Ollama::embed_request(const Endpoint& endpoint, const EmbedRequest& r) const {
  http::Request req = post_json(endpoint.base_url + "/api/embed", inputs_body(r, false), {});
  add_bearer(req, endpoint);
  return req;
}

std::int64_t Ollama::parse_embeddings(std::string_view body, std::size_t inputs,
                                      Vector<Vector<float>>& out) const {
  simdjson::dom::parser parser;
  const element doc = parse_answer(parser, body);
  const auto embeddings = embeddings_array(doc, "embeddings");
  if (inputs == 0) inputs = embeddings.size();
  require_count(embeddings.size(), inputs);
  for (const element e : embeddings) {
    out.emplace_back();
    read_vector(e, out.back());
  }
  return wire::num(doc, "prompt_eval_count");
}

}  // namespace llmkit::providers
