#include "pipeline/cache_stage.h"

#include <simdjson.h>

#include <utility>

#include "core/json.h"
#include "pipeline/cached_answer.h"

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

// A request's key, written from its fields straight into the canonical
// form (a JSON text of it to parse was 8k instructions a call, callgrind
// over make bench's pipeline/full). Every field that can change the answer
// is there, in no provider's wire format (a router may pick any), with
// `model` as requested. Each field present is its name and then its value,
// and each object ends with a null, where a name would come: so no two
// requests share a form. JSON given as text (a tool's parameters, "extra")
// is keyed by its value, whatever its members' order.
class ChatKey {
 public:
  cache::Key operator()(std::string_view scope, const providers::ChatRequest& r,
                        std::string_view model) {
    k_.begin("chat", scope, CacheStage::kProvider);
    field("model").add_string(model);
    if (!r.system.empty()) field("system").add_string(r.system);
    field("messages").add_array(r.messages.size());
    for (const Message& m : r.messages) message(m);
    if (!r.tools.empty()) {
      field("tools").add_array(r.tools.size());
      for (const providers::Tool& t : r.tools) {
        field("name").add_string(t.name);
        field("description").add_string(t.description);
        if (!t.parameters.empty()) json(field("parameters"), t.parameters, "a tool's parameters");
        k_.add_null();
      }
    }
    if (!r.tool_choice.empty()) field("tool_choice").add_string(r.tool_choice);
    if (!r.response_format.empty()) field("response_format").add_string(r.response_format);
    if (r.temperature) field("temperature").add_double(*r.temperature);
    if (r.top_p) field("top_p").add_double(*r.top_p);
    if (r.max_tokens) field("max_tokens").add_int(*r.max_tokens);
    if (r.seed) field("seed").add_int(*r.seed);
    if (r.thinking_budget) field("thinking_budget").add_int(*r.thinking_budget);
    if (!r.stop.empty()) {
      field("stop").add_array(r.stop.size());
      for (const String& stop : r.stop) k_.add_string(stop);
    }
    if (!r.extra.empty()) json(field("extra"), r.extra, "the request's \"extra\"");
    k_.add_null();
    return k_.hash();
  }

 private:
  cache::Canonical& field(std::string_view name) {
    k_.add_string(name);
    return k_;
  }
  void json(cache::Canonical& k, std::string_view text, std::string_view what) {
    k.add(json::parse(parser_, text, what));
  }
  void message(const Message& m) {
    field("role").add_string(role_name(m.role));
    if (!m.tool_call_id.empty()) field("tool_call_id").add_string(m.tool_call_id);
    field("parts").add_array(m.parts.size());
    for (const providers::Part& p : m.parts) {
      if (p.image) {
        field("url").add_string(p.image->url);
        field("media_type").add_string(p.image->media_type);
        field("base64").add_string(p.image->base64);
      } else {
        field("text").add_string(p.text);
      }
      k_.add_null();
    }
    // Signed reasoning goes back to the provider, which may answer otherwise
    // without it: part of the key, unlike cache breakpoints (a price, not an
    // answer).
    if (!m.thinking.empty()) {
      field("thinking").add_array(m.thinking.size());
      for (const providers::Thinking& t : m.thinking) {
        field("text").add_string(t.text);
        field("signature").add_string(t.signature);
        field("redacted").add_bool(t.redacted);
        k_.add_null();
      }
    }
    if (!m.tool_calls.empty()) {
      field("tool_calls").add_array(m.tool_calls.size());
      for (const providers::ToolCall& c : m.tool_calls) {
        field("id").add_string(c.id);
        field("name").add_string(c.name);
        field("arguments").add_string(c.arguments);
        field("signature").add_string(c.signature);
        k_.add_null();
      }
    }
    k_.add_null();
  }

  cache::Canonical k_;
  simdjson::dom::parser parser_;
};

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
  // Sampled at a temperature other than 0: the request's, or the
  // provider's default.
  const bool samples = !request.temperature || *request.temperature != 0;
  const cache::Use use = cache->use_for(requested, samples);
  if (use == cache::Use::kBypass) return false;  // sampled, and the cache skips those
  thread_local ChatKey chat_key;
  const cache::Key key = chat_key(scope, request, model);
  key_ = key;
  cache_ = cache;  // the answer is to be stored, unless the cache has it
  if (use == cache::Use::kRefresh) return false;  // no read; the fresh answer replaces the entry
  const cache::Cache::Lookup found = cache->lookup(key, wait_ns, cancel);
  filling_ = found.fill;
  use_ = metrics::CacheUse::kMiss;
  if (!found.value) return false;
  std::unique_ptr<Response> answer = decode_answer(found.value->bytes());
  if (!answer) return false;  // unreadable: a miss, whose answer replaces it
  use_ = metrics::CacheUse::kHit;
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
      cache->put(key_, encode_answer(*result.response), 0);  // lands the flight too
      filling_ = false;
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): not stored: a later miss, and the abandon below
  }
  if (std::exchange(filling_, false)) cache->abandon(key_);
}

}  // namespace llmkit::pipeline
