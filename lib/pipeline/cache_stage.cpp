#include "pipeline/cache_stage.h"

#include <simdjson.h>

#include <utility>

#include "core/json.h"
#include "providers/wire.h"

namespace llmkit::pipeline {

namespace {

using providers::Delta;
using providers::Message;
using providers::Response;
using providers::Role;

const char* role_name(Role role) {
  switch (role) {
    case Role::kAssistant:
      return "assistant";
    case Role::kTool:
      return "tool";
    case Role::kUser:
      break;
  }
  return "user";
}

void write_message(providers::wire::Writer& w, const Message& m) {
  w.begin_object().field("role", role_name(m.role));
  if (!m.tool_call_id.empty()) w.field("tool_call_id", m.tool_call_id);
  w.key("parts").begin_array();
  for (const providers::Part& p : m.parts) {
    w.begin_object();
    if (p.image) {
      w.field("url", p.image->url).field("media_type", p.image->media_type);
      w.field("base64", p.image->base64);
    } else {
      w.field("text", p.text);
    }
    w.end_object();
  }
  w.end_array();
  // Signed reasoning goes back to the provider, which may answer otherwise
  // without it: part of the key, unlike cache breakpoints (a price, not an
  // answer).
  if (!m.thinking.empty()) {
    w.key("thinking").begin_array();
    for (const providers::Thinking& t : m.thinking) {
      w.begin_object().field("text", t.text).field("signature", t.signature);
      w.key("redacted").boolean(t.redacted).end_object();
    }
    w.end_array();
  }
  if (!m.tool_calls.empty()) {
    w.key("tool_calls").begin_array();
    for (const providers::ToolCall& c : m.tool_calls) {
      w.begin_object().field("id", c.id).field("name", c.name).field("arguments", c.arguments);
      w.field("signature", c.signature).end_object();
    }
    w.end_array();
  }
  w.end_object();
}

// The request as JSON to key: every field of a ChatRequest that can change
// the answer, in no provider's wire format (a router may pick any), with
// `model` as requested. The temperature policy reads "temperature" here.
String request_json(const providers::ChatRequest& r, std::string_view model) {
  String out;
  providers::wire::Writer w(out);
  w.begin_object().field("model", model);
  if (!r.system.empty()) w.field("system", r.system);
  w.key("messages").begin_array();
  for (const Message& m : r.messages) write_message(w, m);
  w.end_array();
  if (!r.tools.empty()) {
    w.key("tools").begin_array();
    for (const providers::Tool& t : r.tools) {
      w.begin_object().field("name", t.name).field("description", t.description);
      w.key("parameters");
      if (t.parameters.empty()) {
        w.null();
      } else {
        w.raw(t.parameters);
      }
      w.end_object();
    }
    w.end_array();
  }
  if (!r.tool_choice.empty()) w.field("tool_choice", r.tool_choice);
  if (!r.response_format.empty()) w.field("response_format", r.response_format);
  if (r.temperature) w.key("temperature").number(*r.temperature);
  if (r.top_p) w.key("top_p").number(*r.top_p);
  if (r.max_tokens) w.key("max_tokens").number(*r.max_tokens);
  if (r.seed) w.key("seed").number(*r.seed);
  if (r.thinking_budget) w.key("thinking_budget").number(*r.thinking_budget);
  if (!r.stop.empty()) {
    w.key("stop").begin_array();
    for (const String& s : r.stop) w.string(s);
    w.end_array();
  }
  if (!r.extra.empty()) w.key("extra").raw(r.extra);
  w.end_object();
  return out;
}

// A cached value: the answer as append_json writes it, plus what that
// leaves out and a caller may read (the model that answered, its id, the
// provider's own finish reason).
String encode(const Response& r) {
  String out;
  providers::wire::Writer w(out);
  w.begin_object()
      .field("model", r.model)
      .field("id", r.id)
      .field("finish_reason_raw", r.finish_raw);
  w.key("answer");
  providers::append_json(out, r);
  w.end_object();
  return out;
}

// The answer in `value`, or null when it is not one encode() wrote (a
// foreign entry, another version's): a miss, never a crash.
std::unique_ptr<Response> decode(std::string_view value) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(value.data(), value.size()).get(doc)) return nullptr;
  namespace wire = providers::wire;
  const simdjson::dom::element answer = wire::member(doc, "answer");
  auto r = std::make_unique<Response>();
  try {
    providers::read_json(answer, *r);
  } catch (const Error&) {
    return nullptr;
  }
  r->model = make_string(wire::str(doc, "model"));
  r->id = make_string(wire::str(doc, "id"));
  r->finish_raw = make_string(wire::str(doc, "finish_reason_raw"));
  return r;
}

// A hit, for a streaming caller: the pieces a provider would have sent,
// whole. The callback's status when it stops the stream.
llmkit_status stream(const Response& r, const client::Client::ChunkFn& on_chunk) {
  Delta d;
  for (const auto& [kind, text] :
       {std::pair{Delta::kReasoning, &r.reasoning}, std::pair{Delta::kText, &r.text}}) {
    if (text->empty()) continue;
    d.kind = kind;
    d.text = *text;
    if (const llmkit_status s = on_chunk(d); s != LLMKIT_OK) return s;
  }
  d.kind = Delta::kToolCall;
  for (std::size_t i = 0; i < r.tool_calls.size(); ++i) {
    const providers::ToolCall& c = r.tool_calls[i];
    d.index = static_cast<int>(i);
    d.id = c.id;
    d.name = c.name;
    d.text = c.arguments;
    if (const llmkit_status s = on_chunk(d); s != LLMKIT_OK) return s;
  }
  return LLMKIT_OK;
}

// Worth serving again: a whole answer with something in it.
bool storable(const client::Result& result) {
  const Response* r = result.response.get();
  return result.status == LLMKIT_OK && r != nullptr && r->status == LLMKIT_OK &&
         r->finish != LLMKIT_FINISH_NONE && r->finish != LLMKIT_FINISH_ERROR &&
         (!r->text.empty() || !r->tool_calls.empty());
}

}  // namespace

CacheStage::~CacheStage() {
  if (filling_) cache_->abandon(key_);
}

bool CacheStage::lookup(cache::Cache* cache, std::string_view scope,
                        const providers::ChatRequest& request, std::string_view model,
                        const Options* call_options, std::int64_t wait_ns, const Cancel* cancel,
                        const client::Client::ChunkFn& on_chunk, client::Result& out) {
  if (cache == nullptr) return false;
  const cache::Use requested = cache::use_of(call_options);
  if (requested == cache::Use::kBypass) return false;
  thread_local simdjson::dom::parser parser;
  const String body = request_json(request, model);
  cache::Use use = requested;
  const cache::Key key =
      cache->key(scope, kProvider, json::parse(parser, body, "the request"), requested, &use);
  if (use == cache::Use::kBypass) return false;  // sampled, and the cache skips those
  key_ = key;
  cache_ = cache;  // the answer is to be stored, unless the cache has it
  if (use == cache::Use::kRefresh) return false;  // no read; the fresh answer replaces the entry
  const cache::Cache::Lookup found = cache->lookup(key, wait_ns, cancel);
  filling_ = found.fill;
  if (!found.value) return false;
  std::unique_ptr<Response> answer = decode(found.value->bytes());
  if (!answer) return false;  // unreadable: a miss, whose answer replaces it
  cache_ = nullptr;
  answer->cached = true;
  answer->cost_usd = 0.0;  // no provider was paid
  if (on_chunk) out.status = stream(*answer, on_chunk);
  if (out.status != LLMKIT_OK) out.message = make_string("the stream callback stopped the call");
  out.response = std::move(answer);
  return true;
}

void CacheStage::store(const client::Result& result) noexcept {
  cache::Cache* cache = std::exchange(cache_, nullptr);
  if (cache == nullptr) return;
  try {
    if (storable(result)) {
      cache->put(key_, encode(*result.response), 0);  // lands the flight too
      filling_ = false;
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): not stored: a later miss, and the abandon below
  }
  if (std::exchange(filling_, false)) cache->abandon(key_);
}

}  // namespace llmkit::pipeline
