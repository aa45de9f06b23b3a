#include "pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "core/clock.h"
#include "core/error.h"
#include "pipeline/cache_stage.h"
#include "pipeline/caller_limit.h"

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
  std::int64_t deadline_us = 0;  // "deadline_ms" after the start; 0: none

  // An async call's, for its later tries (on the loop thread).
  std::optional<Options> options;
  const Cancel* cancel = nullptr;
  client::Client::ChunkFn on_chunk;
  client::Client::DoneFn done;
  int tries = 0;
  bool delivered = false;  // a piece reached on_chunk: never sent again

  // The call's tags ("tags": "a,b") and metadata ("meta.KEY").
  void read(const Options* call_options);

  // Its place in the response cache and its caller's limit: each settles
  // once, before the after round, or when the call is destroyed.
  CacheStage cache;
  CallerLimit limit;
};

Pipeline::Pipeline(const Options& options,
                   const std::function<const char*(const char*)>& environment)
    : scopes_(hooks::split_list(options.get_string("scopes", ""))),
      retry_(route::RetryPolicy::from(options)),
      breakers_(route::BreakerPolicy::from(options)),
      prices_(&cost::PriceTable::builtin()),
      cache_scope_(make_string(options.get_string("cache.scope", ""))),
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
  if (call_options == nullptr || !registry) return;
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
  if (result.response) result.response->attempts = std::max(result.response->attempts, 1);
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
    call.limit.admit(limiter_.load(), request, model, call_options, cancel);
  } catch (const Error& e) {
    out = failure(e);
    return true;
  }
  return false;
}

void Pipeline::store_and_settle(Call& call, const client::Result& result) noexcept {
  call.limit.settle(result);
  call.cache.store(result);
}

std::int64_t Pipeline::deadline_of(const Options* call_options, std::int64_t start_us) {
  if (call_options == nullptr) return 0;
  const std::int64_t ms = call_options->get_int("deadline_ms", 0, 0, std::int64_t{1} << 40);
  return ms > 0 ? start_us + ms * 1000 : 0;
}

std::optional<std::int64_t> Pipeline::next_wait(const client::Result& r, int tries, bool delivered,
                                                std::int64_t deadline_us) const {
  // A stream whose pieces reached the caller is never sent again: they
  // would arrive twice.
  if (tries >= retry_.attempts || delivered || !route::retryable(r.status, http_status_of(r))) {
    return std::nullopt;
  }
  const std::int64_t wait = route::backoff_ms(retry_, tries, retry_after_of(r));
  // No time left to wait and try again: the last failure says more than a
  // timeout would.
  if (deadline_us > 0 && now_us() + wait * 1000 >= deadline_us) return std::nullopt;
  return wait;
}

client::Attempt Pipeline::attempt_of(std::int64_t deadline_us, std::int64_t delay_ms) {
  client::Attempt a;
  a.delay_ms = delay_ms;
  if (deadline_us > 0) {
    a.total_cap_ms = std::max<std::int64_t>(1, (deadline_us - now_us()) / 1000 - delay_ms);
  }
  return a;
}

route::Breaker* Pipeline::breaker(std::string_view model) {
  return breakers_.policy().enabled ? breakers_.find(model) : nullptr;
}

route::Breaker* Pipeline::admit(std::string_view model) {
  if (!breakers_.policy().enabled) return nullptr;
  route::Breaker& b = breakers_.of(model);
  if (b.admit(now_ms())) return &b;
  const route::Breaker::Stats s = b.stats(now_ms());
  fail(LLMKIT_UNAVAILABLE, "the circuit for " + std::string(client_.provider_name()) + " " +
                               std::string(model) + " is open after too many failures; the next " +
                               "try goes through in " + std::to_string(s.retry_in_ms) + " ms");
}

void Pipeline::record(route::Breaker* breaker, const client::Result& r) noexcept {
  if (breaker == nullptr) return;
  using Outcome = route::Breaker::Outcome;
  const Outcome o = r.status == LLMKIT_OK                           ? Outcome::kSuccess
                    : route::retryable(r.status, http_status_of(r)) ? Outcome::kFailure
                                                                    : Outcome::kNeither;
  breaker->done(o, now_ms());
}

client::Result Pipeline::chat(const providers::ChatRequest& request, const Options* call_options,
                              const Cancel* cancel, const client::Client::ChunkFn& on_chunk) {
  Call call;
  call.registry = hooks();
  call.read(call_options);
  const std::int64_t deadline_us = deadline_of(call_options, call.start_us);
  client::Result result;
  if (call.registry && before(call, request, result)) {
    after(call, result);
    return result;
  }
  const providers::ChatRequest& sent = call.owned ? call.own : request;
  if (look_up_and_admit(call, sent, call_options, cancel, on_chunk, fill_wait_ns(deadline_us),
                        result)) {
    if (call.registry) after(call, result);
    return result;
  }
  bool delivered = false;
  client::Client::ChunkFn chunk;
  if (on_chunk) {
    chunk = [&](const providers::Delta& d) {
      delivered = true;
      return on_chunk(d);
    };
  }
  for (int tries = 1;; ++tries) {
    route::Breaker* breaker = nullptr;
    try {
      breaker = admit(model_of(sent));
      result = client_.chat(sent, call_options, cancel, chunk, attempt_of(deadline_us, 0));
    } catch (const Error& e) {  // it could not start (or the circuit is open): no try will
      if (breaker != nullptr) breaker->done(route::Breaker::Outcome::kNeither, now_ms());
      result = failure(e);
      break;
    }
    record(breaker, result);
    price(result, model_of(sent));
    if (result.response) result.response->attempts = tries;
    const std::optional<std::int64_t> wait = next_wait(result, tries, delivered, deadline_us);
    if (!wait) break;
    if (cancel != nullptr ? cancel->wait_for(*wait * 1'000'000) : sleep_ms(*wait)) {
      result = failure(Error(LLMKIT_CANCELLED, "the call was cancelled"));
      break;
    }
  }
  store_and_settle(call, result);
  if (call.registry) after(call, result);
  return result;
}

bool Pipeline::sleep_ms(std::int64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return false;
}

void Pipeline::chat_async(const providers::ChatRequest& request, const Options* call_options,
                          const Cancel* cancel, client::Client::ChunkFn on_chunk,
                          client::Client::DoneFn done) {
  std::shared_ptr<hooks::Registry> registry = hooks();
  if (!registry && retry_.attempts == 1 && cache_.load() == nullptr &&
      limiter_.load() == nullptr) {  // nothing to keep for later: no copies
    route::Breaker* breaker = admit(model_of(request));
    try {
      client_.chat_async(request, call_options, cancel, std::move(on_chunk),
                         [this, breaker, model = make_string(model_of(request)),
                          done = std::move(done)](client::Result r) {
                           record(breaker, r);
                           price(r, model);
                           done(std::move(r));
                         });
    } catch (...) {
      if (breaker != nullptr) breaker->done(route::Breaker::Outcome::kNeither, now_ms());
      throw;
    }
    return;
  }
  // What later tries and hooks need, the caller's copies being theirs to free.
  auto call = std::allocate_shared<Call>(Allocator<Call>());
  call->registry = std::move(registry);
  call->own = request;
  call->owned = true;
  call->read(call_options);
  if (call_options != nullptr) call->options.emplace(*call_options);
  call->cancel = cancel;
  call->on_chunk = std::move(on_chunk);
  call->done = std::move(done);
  call->deadline_us = deadline_of(call_options, call->start_us);
  client::Result early;
  if (call->registry && before(*call, call->own, early)) {
    after(*call, early);
    call->done(std::move(early));
    return;
  }
  // An async call never waits for another filling the cache: that would
  // hold the caller's thread. A hit ends here, on this thread.
  if (look_up_and_admit(*call, call->own, call->options ? &*call->options : nullptr, cancel,
                        call->on_chunk, 0, early)) {
    if (call->registry) after(*call, early);
    // Refused (no answer): it never started, as a call that cannot be sent.
    if (!early.response) fail(early.status, std::string(early.message));
    call->done(std::move(early));
    return;
  }
  try {
    send(call, 0);
  } catch (const Error& e) {  // it never started: the hooks see why, the caller gets it
    client::Result failed = failure(e);
    store_and_settle(*call, failed);
    if (call->registry) after(*call, failed);
    throw;
  }
}

void Pipeline::send(const std::shared_ptr<Call>& call, std::int64_t delay_ms) {
  client::Client::ChunkFn chunk;
  if (call->on_chunk) {
    chunk = [call](const providers::Delta& d) {
      call->delivered = true;  // on the loop thread, as every try's callbacks
      return call->on_chunk(d);
    };
  }
  route::Breaker* breaker = admit(model_of(call->own));
  try {
    client_.chat_async(
        call->own, call->options ? &*call->options : nullptr, call->cancel, std::move(chunk),
        [this, call, breaker](client::Result r) {
          record(breaker, r);
          tried(call, std::move(r));
        },
        attempt_of(call->deadline_us, delay_ms));
  } catch (...) {
    if (breaker != nullptr) breaker->done(route::Breaker::Outcome::kNeither, now_ms());
    throw;
  }
}

void Pipeline::tried(const std::shared_ptr<Call>& call, client::Result r) noexcept {
  ++call->tries;
  price(r, model_of(call->own));
  if (r.response) r.response->attempts = call->tries;
  if (const auto wait = next_wait(r, call->tries, call->delivered, call->deadline_us)) {
    try {
      send(call, *wait);  // waits in the transport: no thread sleeps
      return;
    } catch (const Error& e) {  // the client is closing: this is the end
      r = failure(e);
    } catch (...) {  // NOLINT(bugprone-empty-catch): no memory to try again: the last answer stands
    }
  }
  store_and_settle(*call, r);
  if (call->registry) after(*call, r);
  try {
    call->done(std::move(r));
  } catch (...) {  // NOLINT(bugprone-empty-catch): a callback's failure is its own
  }
}

}  // namespace llmkit::pipeline
