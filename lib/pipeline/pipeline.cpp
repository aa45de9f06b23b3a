#include "pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "core/clock.h"
#include "core/error.h"
#include "pipeline/budget_stage.h"
#include "pipeline/cache_stage.h"
#include "pipeline/caller_limit.h"
#include "pipeline/estimate.h"

namespace llmkit::pipeline {
// One call's hook state, kept from the before round to the last hook.
struct Pipeline::Call {
  std::shared_ptr<hooks::Registry> registry;
  hooks::Registry::View hooks;  // the registry's hooks when the call began
  hooks::Event event;
  // The call's own copy of the request: made when a before hook changes it,
  // and for an async call's later hooks (the caller's may be gone by then).
  providers::ChatRequest own;
  const providers::ChatRequest* request = nullptr;  // as the caller made it, or `own`
  bool owned = false;
  std::int64_t start_us = now_us();
  std::int64_t deadline_us = 0;  // "deadline_ms" after the start; 0: none

  Router::Plan plan;
  int tries = 0;           // in all groups
  bool delivered = false;  // a piece reached on_chunk: never sent again
  const Cancel* cancel = nullptr;

  // An async call's, for its later tries (on the loop thread).
  std::optional<Options> options;
  client::Client::ChunkFn on_chunk;
  client::Client::DoneFn done;
  Router::Target target;  // of the try in flight
  std::int64_t try_start_us = 0;

  // The call's tags ("tags": "a,b") and metadata ("meta.KEY").
  void read(const Options* call_options);

  // Its place in the response cache and its caller's limit: each settles
  // once, before the after round, or when the call is destroyed.
  CacheStage cache;
  BudgetStage budget;
  CallerLimit limit;
  TraceStage trace;
};

namespace {

Unique<metrics::Registry> metrics_from(const Options& options) {
  if (!options.get_bool("metrics").value_or(true)) return nullptr;
  const auto max =
      options.get_int("metrics.max_series", metrics::Registry::kDefaultMaxSeries, 1, 1 << 20);
  return Unique<metrics::Registry>(create<metrics::Registry>(static_cast<std::size_t>(max)));
}

}  // namespace

Pipeline::Pipeline(const Options& options,
                   const std::function<const char*(const char*)>& environment)
    : scopes_(hooks::split_list(options.get_string("scopes", ""))),
      retry_(route::RetryPolicy::from(options)),
      prices_(&cost::PriceTable::builtin()),
      cache_scope_(make_string(options.get_string("cache.scope", ""))),
      budgets_(budget::Budgets::from(options)),
      tracer_(Tracer::from(options)),
      metrics_(metrics_from(options)),
      // The router's clients keep a reference to the transport, made next;
      // none uses it before a call.
      router_(options, environment, transport_),
      transport_(client::transport_settings(options, environment)) {
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
  if (call_options == nullptr || (!registry && !trace.on())) return;
  event.tags = hooks::split_list(call_options->get_string("tags", ""));
  call_options->for_each("meta.", [&](std::string_view key, std::string_view value) {
    event.metadata.emplace_back(make_string(key), make_string(value));
  });
}

bool Pipeline::before(Call& call, const providers::ChatRequest& request,
                      client::Result& out) const {
  hooks::Event& e = call.event;
  e.default_model = router_.default_model();
  e.provider = make_string(router_.provider_of(e.model()));
  e.request = &request;
  if (!call.hooks.any(hooks::Kind::kBefore, scopes_)) return false;
  if (call.owned) e.request = &call.own;
  e.allow_edits(&call.own, &call.owned);
  e.kind = hooks::Kind::kBefore;
  call.hooks.run(e, scopes_);
  e.allow_edits(nullptr, nullptr);
  if (e.answer) {
    out.status = LLMKIT_OK;
    out.response = std::move(e.answer);
    if (out.response->model.empty()) out.response->model = make_string(e.model());
    out.response->provider = e.provider;
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

client::Client& Pipeline::client() {
  client::Client* own = router_.own();
  if (own == nullptr) {
    fail(LLMKIT_INVALID_ARGUMENT,
         R"(the client has only "deployments": give it a "provider" of its own for this)");
  }
  return *own;
}

std::string_view Pipeline::model_of(const providers::ChatRequest& request) const {
  return request.model.empty() ? router_.default_model() : std::string_view(request.model);
}

void Pipeline::stamp(client::Result& result, const Router::Target& target,
                     int tries) const noexcept {
  providers::Response* r = result.response.get();
  if (r == nullptr) return;
  r->attempts = tries;
  try {
    r->provider = make_string(target.provider);
    r->deployment = make_string(target.name);
  } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: the answer stands without them
  }
  if (r->cost_usd) return;
  // The answer names the snapshot that ran ("gpt-4o-2024-08-06"), which the
  // table resolves; the deployment's model is the fallback.
  const cost::Price* p =
      prices_->find(target.provider, r->model.empty() ? target.model : std::string_view(r->model));
  if (p != nullptr) r->cost_usd = cost::cost_usd(*p, r->usage);
}

void Pipeline::after(Call& call, client::Result& result) const noexcept {
  if (result.response) result.response->attempts = std::max(result.response->attempts, 1);
  hooks::Event& e = call.event;
  e.elapsed_us = now_us() - call.start_us;
  e.response = result.response.get();
  try {
    if (e.response != nullptr && !e.response->provider.empty()) e.provider = e.response->provider;
  } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: hooks see the provider first guessed
  }
  if (e.response != nullptr) e.cost_usd = e.response->cost_usd;
  e.status = result.status;
  try {
    e.message = result.message;
  } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: hooks see the status alone
  }
  e.kind = result.status == LLMKIT_OK ? hooks::Kind::kAfter : hooks::Kind::kError;
  call.hooks.run(e, scopes_);
  e.kind = hooks::Kind::kFinally;
  call.hooks.run(e, scopes_);
}

namespace {

client::Result failure(const Error& e) {
  client::Result r;
  r.status = e.status();
  r.message = make_string(e.what());
  return r;
}

// How long a call that misses waits for another filling the same key: its
// time left, and at most this, after which the filler is presumed lost and
// the waiter asks the provider itself (docs/cache.md).
constexpr std::int64_t kFillWaitNs = 30'000'000'000;

std::int64_t fill_wait_ns(std::int64_t deadline_us) {
  if (deadline_us == 0) return kFillWaitNs;
  return std::clamp<std::int64_t>((deadline_us - now_us()) * 1000, 0, kFillWaitNs);
}

int http_status_of(const client::Result& r) {
  return r.response ? r.response->http_status : 0;
}

std::int64_t retry_after_of(const client::Result& r) {
  return r.response ? r.response->retry_after_ms : -1;
}

route::ErrorClass class_of(const client::Result& r) {
  return route::error_class(r.status, http_status_of(r),
                            r.response ? std::string_view(r.response->detail) : "");
}

// The tokens an answer counted, to settle a tpm estimate; -1: none came.
std::int64_t used_of(const client::Result& r) {
  if (!r.response || r.response->status != LLMKIT_OK) return -1;
  return r.response->usage.input + r.response->usage.output;
}

}  // namespace

bool Pipeline::look_up_and_admit(Call& call, const providers::ChatRequest& request,
                                 const Options* call_options, const Cancel* cancel,
                                 const client::Client::ChunkFn& on_chunk, std::int64_t wait_ns,
                                 client::Result& out) {
  const std::string_view model = model_of(request);
  try {
    // The cache first: a hit spends none of the caller's limit.
    if (call.cache.lookup(cache_.load(), cache_scope_, request, model, call_options, wait_ns,
                          cancel, on_chunk, out)) {
      return true;
    }
    call.budget.admit(budgets_.get(), call_options);
    call.limit.admit(limiter_.load(), request, model, call_options, cancel);
  } catch (const Error& e) {
    out = failure(e);
    return true;
  }
  return false;
}

void Pipeline::conclude(Call& call, client::Result& result) const noexcept {
  call.limit.settle(result);
  call.budget.settle(result);
  call.cache.store(result);
  if (call.registry) after(call, result);
  if (!metrics_ && !call.trace.on()) return;
  report(call, sample_of(call, result),
         call.event.request != nullptr ? *call.event.request : *call.request, result);
}

void Pipeline::report(Call& call, const metrics::Sample& sample,
                      const providers::ChatRequest& request,
                      const client::Result& result) const noexcept {
  if (metrics_) metrics_->record(sample);
  call.trace.end(sample, call.event, request, result);
}

metrics::Sample Pipeline::ended(const Call& call, llmkit_status status) const noexcept {
  metrics::Sample s;
  s.status = status;
  s.latency_us = now_us() - call.start_us;
  s.retries = std::max(call.tries - 1, 0);
  s.fallback = call.plan.first != call.plan.group;
  return s;
}

metrics::Sample Pipeline::sample_of(const Call& call, const client::Result& result) const noexcept {
  // What was sent: a before hook's edit of the request when there was one.
  const providers::ChatRequest& request =
      call.event.request != nullptr ? *call.event.request : *call.request;
  const providers::Response* r = result.response.get();
  metrics::Sample s = ended(call, result.status);
  s.model = request.model.empty() ? router_.default_model() : std::string_view(request.model);
  s.provider = r != nullptr && !r->provider.empty() ? std::string_view(r->provider)
                                                    : router_.provider_of(s.model);
  s.cache = call.cache.use();
  s.limited = call.limit.refused();
  if (r == nullptr) return s;
  s.deployment = r->deployment;
  s.ttft_us = r->first_token_us;
  s.input_tokens = r->usage.input;
  s.output_tokens = r->usage.output;
  s.cache_read_tokens = r->usage.cached_input;
  s.cache_creation_tokens = r->usage.cache_write;
  s.reasoning_tokens = r->usage.reasoning;
  s.cost_usd = r->cost_usd.value_or(0.0);
  return s;
}

metrics::View Pipeline::view() {
  metrics::View v;
  v.calls = metrics_.get();
  router_.for_each_breaker([&](std::string_view name, route::Breaker& b) {
    v.breakers.push_back({make_string(name), b.stats(now_ms())});
  });
  if (const std::shared_ptr<hooks::Registry> h = hooks()) v.hooks = h->stats();
  if (tracer_) v.trace = tracer_->writer.stats();
  if (const cache::Cache* c = cache_.load()) v.cache = c->stats();
  if (const ratelimit::Limiter* l = limiter_.load()) v.limiter = l->counters();
  if (budgets_) v.budget = budgets_->stats();
  return v;
}

std::int64_t Pipeline::deadline_of(const Options* call_options, std::int64_t start_us) {
  if (call_options == nullptr) return 0;
  const std::int64_t ms = call_options->get_int("deadline_ms", 0, 0, std::int64_t{1} << 40);
  return ms > 0 ? start_us + ms * 1000 : 0;
}

Pipeline::Next Pipeline::after_failure(Call& call, const client::Result& r, std::int64_t* wait_ms) {
  *wait_ms = 0;
  // A stream whose pieces reached the caller is never sent again: they
  // would arrive twice. A cancelled call is over.
  if (call.delivered || r.status == LLMKIT_CANCELLED ||
      (call.cancel != nullptr && call.cancel->triggered())) {
    return Next::kEnd;
  }
  const bool out_of_time = call.deadline_us > 0 && now_us() >= call.deadline_us;
  if (call.plan.tries < retry_.attempts && route::retryable(r.status, http_status_of(r))) {
    // Another deployment of the group goes at once; the same one after a
    // backoff.
    if (router_.fresh_left(call.plan)) return Next::kRetry;
    const std::int64_t wait = route::backoff_ms(retry_, call.plan.tries, retry_after_of(r));
    // No time left to wait and try again: the last failure says more than a
    // timeout would.
    if (call.deadline_us == 0 || now_us() + wait * 1000 < call.deadline_us) {
      *wait_ms = wait;
      return Next::kRetry;
    }
  }
  if (!out_of_time && router_.fall_back(call.plan, class_of(r))) return Next::kFallBack;
  return Next::kEnd;
}

client::Attempt Pipeline::attempt_of(std::int64_t deadline_us, std::int64_t delay_ms,
                                     std::string_view model) {
  client::Attempt a;
  a.delay_ms = delay_ms;
  a.model = model;
  if (deadline_us > 0) {
    a.total_cap_ms = std::max<std::int64_t>(1, (deadline_us - now_us()) / 1000 - delay_ms);
  }
  return a;
}

void Pipeline::begin(Call& call, const Options* call_options, const Cancel* cancel) const {
  call.registry = hooks();
  if (call.registry) call.hooks = call.registry->view();
  call.trace.begin(tracer_.get(), call_options);
  call.read(call_options);
  call.cancel = cancel;
  call.deadline_us = deadline_of(call_options, call.start_us);
}

template <class Attempt>
void Pipeline::try_until_done(Call& call, const std::function<std::int64_t()>& tokens,
                              client::Result& result, Attempt&& attempt) {
  const Cancel* cancel = call.cancel;
  for (;;) {
    Router::Target t;
    try {
      t = router_.admit(call.plan, tokens);
    } catch (const Error& e) {  // no deployment would take it
      result = failure(e);
      if (router_.fall_back(call.plan, route::error_class(e.status(), 0, ""))) continue;
      return;
    }
    ++call.tries;
    if (!attempt(t, result) || result.status == LLMKIT_OK) return;
    std::int64_t wait = 0;
    if (after_failure(call, result, &wait) == Next::kEnd) return;
    if (wait > 0 && (cancel != nullptr ? cancel->wait_for(wait * 1'000'000) : sleep_ms(wait))) {
      result = failure(Error(LLMKIT_CANCELLED, "the call was cancelled"));
      return;
    }
  }
}

client::Result Pipeline::chat(const providers::ChatRequest& request, const Options* call_options,
                              const Cancel* cancel, const client::Client::ChunkFn& on_chunk) {
  Call call;
  begin(call, call_options, cancel);
  call.request = &request;
  client::Result result;
  if (call.registry && before(call, request, result)) {
    conclude(call, result);
    return result;
  }
  const providers::ChatRequest& sent = call.owned ? call.own : request;
  if (look_up_and_admit(call, sent, call_options, cancel, on_chunk, fill_wait_ns(call.deadline_us),
                        result)) {
    conclude(call, result);
    return result;
  }
  call.plan = router_.plan(model_of(sent), call_options);
  client::Client::ChunkFn chunk;
  if (on_chunk) {
    chunk = [&](const providers::Delta& d) {
      call.delivered = true;
      return on_chunk(d);
    };
  }
  std::optional<std::int64_t> tokens;  // estimated once, when a tpm limit asks
  const auto estimate = [&] {
    if (!tokens) tokens = estimate_tokens(sent, model_of(sent));
    return *tokens;
  };
  try_until_done(call, estimate, result, [&](const Router::Target& t, client::Result& r) {
    const std::int64_t start = now_us();
    try {
      r = t.client->chat(sent, call_options, cancel, chunk,
                         attempt_of(call.deadline_us, 0, t.model));
    } catch (const Error& e) {  // it could not start: no other try will either
      router_.end(call.plan, t, e.status(), 0, -1, -1);
      r = failure(e);
      return false;
    }
    router_.end(call.plan, t, r.status, http_status_of(r), now_us() - start, used_of(r));
    stamp(r, t, call.tries);
    return true;
  });
  conclude(call, result);
  return result;
}

client::Vectors Pipeline::embed(std::string_view model, const providers::Vector<String>& inputs,
                                const Options* call_options, const Cancel* cancel) {
  Call call;
  begin(call, call_options, cancel);
  const std::string_view group = model.empty() ? router_.default_model() : model;
  if (group.empty()) {
    fail(LLMKIT_INVALID_ARGUMENT, "no embeddings model given, and the client has no \"model\"");
  }
  client::Result result;  // the outcome the hooks see: no answer, only its status
  client::Vectors vectors;
  Router::Target last;  // the deployment of the last try
  // Ends the call for the hooks, the metrics and the trace, and throws a
  // failure.
  const auto end = [&]() -> client::Vectors {
    if (call.registry) after(call, result);
    if (metrics_ || call.trace.on()) {
      metrics::Sample s = ended(call, result.status);
      s.operation = "embeddings";
      s.model = group;
      s.provider = last.client != nullptr ? last.provider : router_.provider_of(group);
      if (result.status == LLMKIT_OK) {
        s.deployment = last.name;
        s.input_tokens = vectors.input_tokens;
      }
      report(call, s, providers::ChatRequest{}, result);
    }
    if (result.status != LLMKIT_OK) fail(result.status, std::string(result.message));
    return std::move(vectors);
  };
  if (call.registry) {
    hooks::Event& e = call.event;
    e.default_model = group;
    e.provider = make_string(router_.provider_of(group));
    if (call.hooks.any(hooks::Kind::kBefore, scopes_)) {
      e.kind = hooks::Kind::kBefore;
      call.hooks.run(e, scopes_);
      if (e.rejected != LLMKIT_OK || e.answer) {
        result.status = e.rejected != LLMKIT_OK ? e.rejected : LLMKIT_UNSUPPORTED;
        result.message = e.rejected != LLMKIT_OK ? e.reject_message
                                                 : make_string(
                                                       "a before hook answered an "
                                                       "embeddings call with a chat answer");
        if (result.message.empty()) result.message = make_string("a before hook rejected the call");
        return end();
      }
    }
  }
  call.plan = router_.plan(group, call_options);
  std::int64_t bytes = 0;
  for (const String& in : inputs) bytes += static_cast<std::int64_t>(in.size());
  try_until_done(
      call, [bytes] { return bytes / 4 + 1; },  // tpm: by size
      result,
      [&](const Router::Target& t, client::Result& r) {
        last = t;
        const std::int64_t start = now_us();
        try {
          vectors = t.client->embed(t.model, inputs, call_options, cancel);
          router_.end(call.plan, t, LLMKIT_OK, 0, now_us() - start, vectors.input_tokens);
          r = client::Result{};
        } catch (const client::EmbedFailure& e) {  // the provider's answer: its status decides
          r.status = e.result().status;
          r.message = e.result().message;
          if (e.result().response) {
            r.response = std::make_unique<providers::Response>(*e.result().response);
          }
          router_.end(call.plan, t, r.status, http_status_of(r), now_us() - start, -1);
        } catch (const Error& e) {
          router_.end(call.plan, t, e.status(), 0, now_us() - start, -1);
          r = failure(e);
        }
        return true;
      });
  return end();
}

bool Pipeline::sleep_ms(std::int64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return false;
}

void Pipeline::chat_async(const providers::ChatRequest& request, const Options* call_options,
                          const Cancel* cancel, client::Client::ChunkFn on_chunk,
                          client::Client::DoneFn done) {
  // What later tries and hooks need, the caller's copies being theirs to free.
  auto call = std::allocate_shared<Call>(Allocator<Call>());
  begin(*call, call_options, cancel);
  call->own = request;
  call->owned = true;
  call->request = &call->own;
  if (call_options != nullptr) call->options.emplace(*call_options);
  call->on_chunk = std::move(on_chunk);
  call->done = std::move(done);
  client::Result early;
  if (call->registry && before(*call, call->own, early)) {
    conclude(*call, early);
    call->done(std::move(early));
    return;
  }
  // An async call never waits for another filling the cache: that would
  // hold the caller's thread. A hit ends here, on this thread.
  if (look_up_and_admit(*call, call->own, call->options ? &*call->options : nullptr, cancel,
                        call->on_chunk, 0, early)) {
    conclude(*call, early);
    // Refused (no answer): it never started, as a call that cannot be sent.
    if (!early.response) fail(early.status, std::string(early.message));
    call->done(std::move(early));
    return;
  }
  call->plan = router_.plan(model_of(call->own), call_options);
  if (std::optional<client::Result> failed = send(call, 0)) {
    // It never started: the hooks see why, the caller gets it.
    conclude(*call, *failed);
    fail(failed->status, std::string(failed->message));
  }
}

std::optional<client::Result> Pipeline::send(const std::shared_ptr<Call>& call,
                                             std::int64_t delay_ms) {
  for (;;) {
    try {
      call->target = router_.admit(
          call->plan, [&call, this] { return estimate_tokens(call->own, model_of(call->own)); });
    } catch (const Error& e) {  // no deployment would take it
      if (router_.fall_back(call->plan, route::error_class(e.status(), 0, ""))) {
        delay_ms = 0;
        continue;
      }
      return failure(e);
    }
    break;
  }
  client::Client::ChunkFn chunk;
  if (call->on_chunk) {
    chunk = [call](const providers::Delta& d) {
      call->delivered = true;  // on the loop thread, as every try's callbacks
      return call->on_chunk(d);
    };
  }
  ++call->tries;
  call->try_start_us = now_us() + delay_ms * 1000;
  try {
    call->target.client->chat_async(
        call->own, call->options ? &*call->options : nullptr, call->cancel, std::move(chunk),
        [this, call](client::Result r) { tried(call, std::move(r)); },
        attempt_of(call->deadline_us, delay_ms, call->target.model));
  } catch (const Error& e) {
    router_.end(call->plan, call->target, e.status(), 0, -1, -1);
    return failure(e);
  }
  return std::nullopt;
}

void Pipeline::tried(const std::shared_ptr<Call>& call, client::Result r) noexcept {
  router_.end(call->plan, call->target, r.status, http_status_of(r), now_us() - call->try_start_us,
              used_of(r));
  stamp(r, call->target, call->tries);
  if (r.status != LLMKIT_OK) {
    std::int64_t wait = 0;
    try {
      if (after_failure(*call, r, &wait) != Next::kEnd) {
        std::optional<client::Result> failed = send(call, wait);  // waits in the transport
        if (!failed) return;
        r = std::move(*failed);
      }
    } catch (...) {  // NOLINT(bugprone-empty-catch): no memory to try again: the last answer stands
    }
  }
  finish(call, std::move(r));
}

void Pipeline::finish(const std::shared_ptr<Call>& call, client::Result r) noexcept {
  conclude(*call, r);
  try {
    call->done(std::move(r));
  } catch (...) {  // NOLINT(bugprone-empty-catch): a callback's failure is its own
  }
}

}  // namespace llmkit::pipeline
