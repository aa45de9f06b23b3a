#include "providers/gemini.h"

#include <optional>

#include "core/error.h"
#include "providers/body.h"
#include "providers/errors.h"
#include "providers/wire.h"

namespace llmkit::providers {
namespace {

using simdjson::dom::element;

std::string_view model_path(std::string_view model) {
  if (model.substr(0, 7) == "models/") model.remove_prefix(7);
  return model;
}

// The name of the function `call_id` called, for a functionResponse.
std::string_view called_name(const ChatRequest& r, std::string_view call_id) {
  for (const Message& m : r.messages) {
    for (const ToolCall& c : m.tool_calls) {
      if (c.id == call_id) return c.name;
    }
  }
  fail(LLMKIT_INVALID_ARGUMENT,
       "Gemini needs the function's name for a tool result: no earlier "
       "tool call has the id \"" +
           std::string(call_id) + "\"");
}

void signed_part(wire::Writer& w, std::string_view signature) {
  if (!signature.empty()) w.field("thoughtSignature", signature);
}

// A model turn's thinking goes back on the parts it came with, since Gemini
// checks the signatures: thoughts as thought parts, first (the official
// SDKs send the whole turn back too); a signature that came on a text part
// is returned for the turn's last text part (Gemini 3 signs the last part;
// one text part holds all of an answer's text). Anthropic's redacted blocks
// mean nothing to Gemini.
std::string_view write_thoughts(wire::Writer& w, const Message& m) {
  std::string_view text_signature;
  for (const Thinking& t : m.thinking) {
    if (t.redacted) continue;
    if (t.text.empty()) {
      text_signature = t.signature;
      continue;
    }
    w.begin_object().field("text", t.text).key("thought").boolean(true);
    signed_part(w, t.signature);
    w.end_object();
  }
  return text_signature;
}

void write_parts(wire::Writer& w, const ChatRequest& r, const Message& m) {
  w.key("parts").begin_array();
  if (m.role == Role::kTool) {
    String text;
    for (const Part& p : m.parts) text += p.text;
    w.begin_object().key("functionResponse").begin_object();
    w.field("name", called_name(r, m.tool_call_id));
    // The response must be an object: a JSON object result goes as it is.
    simdjson::dom::parser parser;
    element doc;
    w.key("response");
    if (!parser.parse(text.data(), text.size()).get(doc) && doc.is_object()) {
      w.element(doc);
    } else {
      w.begin_object().field("content", text).end_object();
    }
    w.end_object().end_object();
  }
  const std::string_view text_signature = write_thoughts(w, m);
  std::size_t last_text = m.parts.size();
  for (std::size_t i = 0; i < m.parts.size(); ++i) {
    if (!m.parts[i].image) last_text = i;
  }
  for (std::size_t i = 0; i < m.parts.size(); ++i) {
    if (m.role == Role::kTool) break;
    const Part& p = m.parts[i];
    w.begin_object();
    if (p.image) {
      if (!p.image->url.empty()) {
        fail(LLMKIT_UNSUPPORTED, "Gemini takes images inline: pass a data: URL");
      }
      w.key("inline_data").begin_object().field("mime_type", p.image->media_type);
      w.field("data", p.image->base64).end_object();
    } else {
      w.field("text", p.text);
      if (i == last_text) signed_part(w, text_signature);
    }
    w.end_object();
  }
  // Gemini itself sends a signature alone on an empty text part.
  if (last_text == m.parts.size() && !text_signature.empty()) {
    w.begin_object().field("text", "");
    signed_part(w, text_signature);
    w.end_object();
  }
  for (const ToolCall& c : m.tool_calls) {
    w.begin_object().key("functionCall").begin_object().field("name", c.name);
    w.key("args").raw(c.arguments.empty() ? std::string_view("{}") : std::string_view(c.arguments));
    w.end_object();
    signed_part(w, c.signature);
    w.end_object();
  }
  w.end_array();
}

void write_generation_config(wire::Writer& w, const ChatRequest& r) {
  const bool json = !r.response_format.empty() && r.response_format != "text";
  if (!r.temperature && !r.top_p && !r.max_tokens && !r.seed && r.stop.empty() && !json &&
      !r.thinking_budget) {
    return;
  }
  w.key("generationConfig").begin_object();
  if (r.temperature) w.key("temperature").number(*r.temperature);
  if (r.top_p) w.key("topP").number(*r.top_p);
  if (r.max_tokens) w.key("maxOutputTokens").number(*r.max_tokens);
  if (r.seed) w.key("seed").number(*r.seed);
  if (!r.stop.empty()) {
    w.key("stopSequences").begin_array();
    for (const String& s : r.stop) w.string(s);
    w.end_array();
  }
  if (json) {
    w.field("responseMimeType", "application/json");
    if (r.response_format != "json") w.key("responseJsonSchema").raw(r.response_format);
  }
  if (r.thinking_budget) {
    w.key("thinkingConfig").begin_object().key("thinkingBudget").number(*r.thinking_budget);
    w.key("includeThoughts").boolean(true).end_object();
  }
  w.end_object();
}

bool read_error(element doc, Response& out) {
  if (doc.is_array()) {  // a stream's error arrives wrapped in an array
    const simdjson::dom::array items = doc.get_array().value_unsafe();
    return items.size() > 0 && read_error(items.at(0).value_unsafe(), out);
  }
  const element error = wire::member(doc, "error");
  if (!error.is_object()) return false;
  set_provider_error(out, wire::str(error, "status"), wire::str(error, "message"));
  for (const element d : wire::array(error, "details")) {
    if (wire::str(d, "@type") == "type.googleapis.com/google.rpc.RetryInfo") {
      out.retry_after_ms = duration_ms(wire::str(d, "retryDelay"));
    }
  }
  return true;
}

llmkit_finish_reason finish_for(std::string_view raw) {
  if (raw == "STOP") return LLMKIT_FINISH_STOP;
  if (raw == "MAX_TOKENS") return LLMKIT_FINISH_LENGTH;
  if (raw == "SAFETY" || raw == "RECITATION" || raw == "BLOCKLIST" || raw == "PROHIBITED_CONTENT" ||
      raw == "SPII" || raw == "IMAGE_SAFETY") {
    return LLMKIT_FINISH_CONTENT_FILTER;
  }
  return LLMKIT_FINISH_ERROR;  // MALFORMED_FUNCTION_CALL, OTHER, FINISH_REASON_UNSPECIFIED
}

void read_usage(element usage, Usage& u) {
  if (!usage.is_object()) return;
  u.input = wire::num(usage, "promptTokenCount");
  u.reasoning = wire::num(usage, "thoughtsTokenCount");
  u.output = wire::num(usage, "candidatesTokenCount") + u.reasoning;
  u.cached_input = wire::num(usage, "cachedContentTokenCount");
}

// Gemini's thinking blocks as they arrive. A thought streams as one part
// per chunk: the pieces in a row make one block, which a signature ends (a
// signed part is never merged with another). A signature on an answer's
// text part makes a block of its own, without text.
class Thoughts {
 public:
  void thought(Response& out, std::string_view text, std::string_view signature) {
    if (!open_) {
      if (text.empty() && signature.empty()) return;
      out.thinking.emplace_back();
      open_ = true;
    }
    Thinking& t = out.thinking.back();
    t.text.append(text.data(), text.size());
    if (!signature.empty()) {
      t.signature = make_string(signature);
      open_ = false;
    }
  }
  // Any other part ends a thought; a text part may bring a signature.
  void other(Response& out, std::string_view signature) {
    open_ = false;
    if (!signature.empty()) out.thinking.push_back(Thinking{{}, make_string(signature), false});
  }

 private:
  bool open_ = false;
};

// Reads one response (a whole answer or one stream chunk): the first
// candidate's parts go to `parts` in order. True when it carried a finish
// reason (or a blocked prompt).
bool read_chunk(element doc, Response& out, Parts& parts, Thoughts& thoughts) {
  if (out.id.empty()) out.id = make_string(wire::str(doc, "responseId"));
  if (out.model.empty()) out.model = make_string(wire::str(doc, "modelVersion"));
  read_usage(wire::member(doc, "usageMetadata"), out.usage);
  const std::string_view blocked = wire::str(wire::member(doc, "promptFeedback"), "blockReason");
  if (!blocked.empty()) {
    out.finish_raw = make_string(blocked);
    out.finish = LLMKIT_FINISH_CONTENT_FILTER;
    return true;
  }
  for (const element candidate : wire::array(doc, "candidates")) {
    if (wire::num(candidate, "index") != 0) continue;
    for (const element part : wire::array(wire::member(candidate, "content"), "parts")) {
      const std::string_view signature = wire::str(part, "thoughtSignature");
      if (wire::has(part, "functionCall")) {
        const element call = wire::member(part, "functionCall");
        ToolCall c = whole_call(wire::str(call, "id"), wire::str(call, "name"),
                                wire::member(call, "args"), out.tool_calls.size());
        c.signature = make_string(signature);
        thoughts.other(out, {});
        parts.call(std::move(c));
      } else if (wire::has(part, "text")) {
        const std::string_view text = wire::str(part, "text");
        const bool thought = wire::truthy(part, "thought");
        parts.piece(text, thought);
        if (thought) {
          thoughts.thought(out, text, signature);
        } else {
          thoughts.other(out, signature);
        }
      }
    }
    const std::string_view raw = wire::str(candidate, "finishReason");
    if (raw.empty()) return false;
    out.finish_raw = make_string(raw);
    out.finish = finish_for(raw);
    if (out.finish == LLMKIT_FINISH_STOP && !out.tool_calls.empty()) {
      out.finish = LLMKIT_FINISH_TOOL_CALLS;
    }
    return true;
  }
  return false;
}

class GeminiDecoder final : public Decoder {
 public:
  GeminiDecoder(Response& out, DeltaFn fn) : Decoder(Framing::kSse, out, std::move(fn)) {}

 private:
  void on_json(std::string_view, element chunk) override {
    if (read_error(chunk, out_)) {
      done_ = true;
      return;
    }
    // Gemini has no end-of-stream event: the chunk with a finish reason is the last.
    done_ = read_chunk(chunk, out_, *this, thoughts_);
  }

  Thoughts thoughts_;
};

}  // namespace

http::Request Gemini::chat_request(const Endpoint& endpoint, const ChatRequest& r,
                                   std::string_view model, bool stream) const {
  String body;
  wire::Writer w(body);
  w.begin_object().key("contents").begin_array();
  for (const Message& m : r.messages) {
    w.begin_object().field("role", m.role == Role::kAssistant ? "model" : "user");
    write_parts(w, r, m);
    w.end_object();
  }
  w.end_array();
  if (!r.system.empty()) {
    w.key("systemInstruction").begin_object().key("parts").begin_array();
    w.begin_object().field("text", r.system).end_object().end_array().end_object();
  }
  if (!r.tools.empty()) {
    w.key("tools").begin_array().begin_object().key("functionDeclarations").begin_array();
    for (const Tool& t : r.tools) {
      w.begin_object().field("name", t.name);
      if (!t.description.empty()) w.field("description", t.description);
      if (!t.parameters.empty()) w.key("parametersJsonSchema").raw(t.parameters);
      w.end_object();
    }
    w.end_array().end_object().end_array();
    if (!r.tool_choice.empty()) {
      w.key("toolConfig").begin_object().key("functionCallingConfig").begin_object();
      if (r.tool_choice == "auto" || r.tool_choice == "none") {
        w.field("mode", r.tool_choice == "auto" ? "AUTO" : "NONE");
      } else if (r.tool_choice == "required") {
        w.field("mode", "ANY");
      } else {
        w.field("mode", "ANY").key("allowedFunctionNames").begin_array();
        w.string(r.tool_choice).end_array();
      }
      w.end_object().end_object();
    }
  }
  write_generation_config(w, r);
  w.end_object();
  String url = endpoint.base_url + "/models/";
  url += model_path(model);
  url += stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
  http::Request req = post_json(url, std::move(body), r.extra);
  if (!endpoint.api_key.empty()) add_header(req, "x-goog-api-key", endpoint.api_key);
  return req;
}

void Gemini::parse(std::string_view body, Response& out) const {
  std::optional<simdjson::dom::parser> big;
  const element doc = parse_answer(answer_parser(body.size(), big), body);
  if (read_error(doc, out)) return;
  if (!wire::has(doc, "candidates") && !wire::has(doc, "promptFeedback")) {
    fail(LLMKIT_PROVIDER_ERROR, "the answer is not a generateContent response (no \"candidates\")");
  }
  AnswerParts parts(out);
  Thoughts thoughts;
  read_chunk(doc, out, parts, thoughts);
}

std::unique_ptr<StreamDecoder> Gemini::decoder(Response& out, DeltaFn on_delta) const {
  return std::make_unique<GeminiDecoder>(out, std::move(on_delta));
}

http::Request Gemini::embed_request(const Endpoint& endpoint, const EmbedRequest& r) const {
  const String model = make_string("models/") + make_string(model_path(r.model));
  String body;
  wire::Writer w(body);
  w.begin_object().key("requests").begin_array();
  for (const String& in : r.inputs) {
    w.begin_object().field("model", model).key("content").begin_object();
    w.key("parts").begin_array().begin_object().field("text", in).end_object().end_array();
    w.end_object();
    if (r.dimensions) w.key("outputDimensionality").number(*r.dimensions);
    w.end_object();
  }
  w.end_array().end_object();
  http::Request req =
      post_json(endpoint.base_url + "/" + model + ":batchEmbedContents", std::move(body), {});
  if (!endpoint.api_key.empty()) add_header(req, "x-goog-api-key", endpoint.api_key);
  return req;
}

std::int64_t Gemini::parse_embeddings(std::string_view body, std::size_t inputs,
                                      Vector<Vector<float>>& out) const {
  simdjson::dom::parser parser;
  const element doc = parse_answer(parser, body);
  const auto embeddings = embeddings_array(doc, "embeddings");
  if (inputs == 0) inputs = embeddings.size();
  require_count(embeddings.size(), inputs);
  for (const element e : embeddings) {
    out.emplace_back();
    read_vector(wire::member(e, "values"), out.back());
  }
  return 0;  // batchEmbedContents reports no token counts
}

}  // namespace llmkit::providers
