#include "pipeline/pipeline.h"

#include <utility>

#include "core/clock.h"
#include "core/error.h"

namespace llmkit::pipeline {
// One call's hook state, kept from the before round to the last hook.
struct Pipeline::Call {
  std::shared_ptr<hooks::Registry> registry;
  hooks::Event event;
  // The call's own copy of the request: made for before hooks to change,
  // and for an async call's later hooks (the caller's may be gone by then).
  providers::ChatRequest own;
  bool owned = false;
  std::int64_t start_us = now_us();

  // The call's tags ("tags": "a,b") and metadata ("meta.KEY").
  void read(const Options* call_options);
};

Pipeline::Pipeline(const Options& options,
                   const std::function<const char*(const char*)>& environment)
    : scopes_(hooks::split_list(options.get_string("scopes", ""))),
      prices_(&cost::PriceTable::builtin()),
      client_(options, environment) {
  if (const String* prices = options.find("prices")) {
    prices_ = &own_prices_.emplace(cost::PriceTable::load(*prices, &cost::PriceTable::builtin()));
  }
  for (const String& scope : scopes_) {
    if (!hooks::is_name(scope)) {
      fail(LLMKIT_INVALID_ARGUMENT, R"("scopes": ")" + std::string(scope) +
                                        "\" is not a word of letters, digits, '_', '-' or '.'");
    }
  }
}

void Pipeline::set_hooks(std::shared_ptr<hooks::Registry> registry) {
  std::lock_guard<std::mutex> lock(hooks_mutex_);
  hooks_ = std::move(registry);
}

std::shared_ptr<hooks::Registry> Pipeline::hooks() const {
  std::lock_guard<std::mutex> lock(hooks_mutex_);
  return hooks_;
}

void Pipeline::Call::read(const Options* call_options) {
  if (call_options == nullptr) return;
  event.tags = hooks::split_list(call_options->get_string("tags", ""));
  call_options->for_each("meta.", [&](std::string_view key, std::string_view value) {
    event.metadata.emplace_back(make_string(key), make_string(value));
  });
}

bool Pipeline::before(Call& call, const providers::ChatRequest& request,
                      client::Result& out) const {
  hooks::Event& e = call.event;
  e.provider = make_string(client_.provider_name());
  e.default_model = client_.model();
  e.request = &request;
  if (!call.registry->any(hooks::Kind::kBefore, scopes_)) return false;
  if (!call.owned) {
    call.own = request;
    call.owned = true;
  }
  e.request = e.editable = &call.own;
  e.kind = hooks::Kind::kBefore;
  call.registry->run(e, scopes_);
  e.editable = nullptr;
  if (e.answer) {
    out.status = LLMKIT_OK;
    out.response = std::move(e.answer);
    if (out.response->model.empty()) out.response->model = make_string(e.model());
    out.response->cost_usd = 0.0;  // no provider was paid
    return true;
  }
  if (e.rejected != LLMKIT_OK) {
    out.status = e.rejected;
    out.message = e.reject_message.empty() ? make_string("a before hook rejected the call")
                                           : e.reject_message;
    return true;
  }
  return false;
}

std::string_view Pipeline::model_of(const providers::ChatRequest& request) const {
  return request.model.empty() ? client_.model() : std::string_view(request.model);
}

void Pipeline::price(client::Result& result, std::string_view model) const noexcept {
  providers::Response* r = result.response.get();
  if (r == nullptr || r->cost_usd) return;
  // The answer names the snapshot that ran ("gpt-4o-2024-08-06"), which the
  // table resolves; the request's name is the fallback.
  const cost::Price* p =
      prices_->find(client_.provider_name(), r->model.empty() ? model : r->model);
  if (p != nullptr) r->cost_usd = cost::cost_usd(*p, r->usage);
}

void Pipeline::after(Call& call, client::Result& result) const noexcept {
  hooks::Event& e = call.event;
  e.elapsed_us = now_us() - call.start_us;
  e.response = result.response.get();
  if (e.response != nullptr) e.cost_usd = e.response->cost_usd;
  e.status = result.status;
  try {
    e.message = result.message;
  } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: hooks see the status alone
  }
  e.kind = result.status == LLMKIT_OK ? hooks::Kind::kAfter : hooks::Kind::kError;
  call.registry->run(e, scopes_);
  e.kind = hooks::Kind::kFinally;
  call.registry->run(e, scopes_);
}

client::Result Pipeline::chat(const providers::ChatRequest& request, const Options* call_options,
                              const Cancel* cancel, const client::Client::ChunkFn& on_chunk) {
  std::shared_ptr<hooks::Registry> registry = hooks();
  if (!registry) {
    client::Result result = client_.chat(request, call_options, cancel, on_chunk);
    price(result, model_of(request));
    return result;
  }
  Call call;
  call.registry = std::move(registry);
  call.read(call_options);
  client::Result result;
  if (!before(call, request, result)) {
    try {
      const providers::ChatRequest& sent = call.owned ? call.own : request;
      result = client_.chat(sent, call_options, cancel, on_chunk);
      price(result, model_of(sent));
    } catch (const Error& e) {  // a call that could not start: error hooks see it too
      result.status = e.status();
      result.message = make_string(e.what());
    }
  }
  after(call, result);
  return result;
}

void Pipeline::chat_async(const providers::ChatRequest& request, const Options* call_options,
                          const Cancel* cancel, client::Client::ChunkFn on_chunk,
                          client::Client::DoneFn done) {
  std::shared_ptr<hooks::Registry> registry = hooks();
  if (!registry) {
    client_.chat_async(
        request, call_options, cancel, std::move(on_chunk),
        [this, model = make_string(model_of(request)), done = std::move(done)](client::Result r) {
          price(r, model);
          done(std::move(r));
        });
    return;
  }
  auto call = std::allocate_shared<Call>(Allocator<Call>());
  call->registry = std::move(registry);
  call->own = request;
  call->owned = true;
  call->read(call_options);
  client::Result early;
  if (before(*call, call->own, early)) {
    after(*call, early);
    done(std::move(early));
    return;
  }
  try {
    client_.chat_async(call->own, call_options, cancel, std::move(on_chunk),
                       [this, call, done = std::move(done)](client::Result r) {
                         price(r, model_of(call->own));
                         after(*call, r);
                         done(std::move(r));
                       });
  } catch (const Error& e) {  // it never started: the hooks see why, the caller gets it
    client::Result failed;
    failed.status = e.status();
    failed.message = make_string(e.what());
    after(*call, failed);
    throw;
  }
}

}  // namespace llmkit::pipeline
