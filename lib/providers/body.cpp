#include "providers/body.h"

#include <string>

#include "core/error.h"
#include "core/json.h"
#include "providers/wire.h"

namespace llmkit::providers {
namespace {

// Writes `base` with `over`'s members laid over it (objects merge member
// by member; anything else in `over` replaces).
void merge(wire::Writer& w, simdjson::dom::element base, simdjson::dom::element over) {
  if (!base.is_object() || !over.is_object()) {
    w.element(over);
    return;
  }
  const auto b = base.get_object().value_unsafe();
  const auto o = over.get_object().value_unsafe();
  w.begin_object();
  for (const auto field : b) {
    simdjson::dom::element replacement;
    w.key_text(field.key);
    if (!o[field.key].get(replacement)) {
      merge(w, field.value, replacement);
    } else {
      w.element(field.value);
    }
  }
  for (const auto field : o) {
    simdjson::dom::element present;
    if (b[field.key].get(present)) w.key_text(field.key).element(field.value);
  }
  w.end_object();
}

}  // namespace

http::Request post_json(std::string_view url, String body, std::string_view extra) {
  http::Request r;
  r.url = make_string(url);
  if (!extra.empty()) {
    simdjson::dom::parser body_parser;
    simdjson::dom::parser extra_parser;
    const auto base = json::parse(body_parser, body, "the request body");
    const auto over = json::parse(extra_parser, extra, "\"extra\"");
    if (!over.is_object()) fail(LLMKIT_INVALID_ARGUMENT, "\"extra\" must be a JSON object");
    String merged;
    wire::Writer w(merged);
    merge(w, base, over);
    body = std::move(merged);
  }
  r.body = std::move(body);
  add_header(r, "Content-Type", "application/json");
  return r;
}

void add_header(http::Request& request, std::string_view name, std::string_view value) {
  String h = make_string(name);
  h += ": ";
  h.append(value.data(), value.size());
  request.headers.push_back(std::move(h));
}

void add_bearer(http::Request& request, const Endpoint& endpoint) {
  if (!endpoint.api_key.empty()) add_header(request, "Authorization", "Bearer " + endpoint.api_key);
}

simdjson::dom::parser& answer_parser(std::size_t size, std::optional<simdjson::dom::parser>& own) {
  constexpr std::size_t kKeptUpTo = std::size_t{1} << 20;
  if (size > kKeptUpTo) return own.emplace();
  thread_local simdjson::dom::parser parser;
  return parser;
}

simdjson::dom::element parse_answer(simdjson::dom::parser& parser, std::string_view body) {
  simdjson::dom::element doc;
  if (const auto err = parser.parse(body.data(), body.size()).get(doc)) {
    fail(LLMKIT_PROVIDER_ERROR,
         std::string("the answer is not valid JSON: ") + simdjson::error_message(err));
  }
  return doc;
}

String inputs_body(const EmbedRequest& r, bool encoding_format) {
  String body;
  wire::Writer w(body);
  w.begin_object().field("model", r.model).key("input").begin_array();
  for (const String& in : r.inputs) w.string(in);
  w.end_array();
  if (r.dimensions) w.key("dimensions").number(*r.dimensions);
  if (encoding_format) w.field("encoding_format", "float");
  w.end_object();
  return body;
}

void require_count(std::size_t got, std::size_t inputs) {
  if (got != inputs) {
    fail(LLMKIT_PROVIDER_ERROR, "the answer has " + std::to_string(got) + " embeddings for " +
                                    std::to_string(inputs) + " inputs");
  }
}

ToolCall whole_call(std::string_view id, std::string_view name, simdjson::dom::element args,
                    std::size_t index) {
  ToolCall c{id.empty() ? make_string("call_" + std::to_string(index)) : make_string(id),
             make_string(name),
             {},
             {}};
  json::append_element(c.arguments, args);
  return c;
}

simdjson::dom::array embeddings_array(simdjson::dom::element doc, std::string_view key) {
  simdjson::dom::array a;
  if (!doc.is_object() || doc.get_object()[key].get_array().get(a)) {
    fail(LLMKIT_PROVIDER_ERROR,
         "the answer is not an embeddings answer (no \"" + std::string(key) + "\" array)");
  }
  return a;
}

void read_vector(simdjson::dom::element array, Vector<float>& out) {
  simdjson::dom::array values;
  if (!array.is_array() || array.get_array().get(values)) {
    fail(LLMKIT_PROVIDER_ERROR, "an embedding is not an array of numbers");
  }
  out.clear();
  out.reserve(values.size());
  for (const auto v : values) {
    double d = 0;
    if (v.get_double().get(d)) fail(LLMKIT_PROVIDER_ERROR, "an embedding holds a non-number");
    out.push_back(static_cast<float>(d));
  }
}

void Decoder::feed(std::string_view bytes) {
  if (done_) return;  // after the last event, nothing more is read
  if (framing_ == Framing::kSse) {
    sse_.feed(bytes, *this);
  } else {
    ndjson_.feed(bytes, *this);
  }
}

void Decoder::on_event(std::string_view event, std::string_view data) {
  if (done_) return;
  simdjson::dom::element doc;
  if (parser_.parse(data.data(), data.size()).get(doc)) {
    on_text(event, data);
    return;
  }
  on_json(event, doc);
}

void Decoder::on_text(std::string_view event, std::string_view data) {
  std::string what =
      event.empty() ? "a stream event" : "stream event \"" + std::string(event) + "\"";
  fail(LLMKIT_PROVIDER_ERROR, what + " is not valid JSON: " + std::string(data.substr(0, 200)));
}

void Decoder::emit(const Delta& d) {
  ++out_.chunks;
  if (on_delta_) on_delta_(d);
}

void Decoder::text(Delta::Kind kind, std::string_view piece) {
  if (piece.empty()) return;
  (kind == Delta::kReasoning ? out_.reasoning : out_.text).append(piece.data(), piece.size());
  Delta d;
  d.kind = kind;
  d.text = piece;
  emit(d);
}

void Decoder::tool_call(std::int64_t index, std::string_view id, std::string_view name,
                        std::string_view arguments) {
  if (index < 0 || index > 4096) fail(LLMKIT_PROVIDER_ERROR, "a tool call index is out of range");
  auto& calls = out_.tool_calls;
  while (calls.size() <= static_cast<std::size_t>(index)) calls.emplace_back();
  ToolCall& call = calls[static_cast<std::size_t>(index)];
  if (!id.empty()) call.id = make_string(id);
  if (!name.empty()) call.name.append(name.data(), name.size());
  call.arguments.append(arguments.data(), arguments.size());
  if (id.empty() && name.empty() && arguments.empty()) return;
  Delta d;
  d.kind = Delta::kToolCall;
  d.index = static_cast<int>(index);
  d.id = id;
  d.name = name;
  d.text = arguments;
  emit(d);
}

}  // namespace llmkit::providers
