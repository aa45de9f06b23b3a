#include "client/client.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/utf8.h"
#include "providers/body.h"
#include "providers/errors.h"

namespace llmkit::client {
namespace {

using providers::Delta;
using providers::Response;

// What one endpoint is: also what each deployment of a client may set.
constexpr std::string_view kEndpoint[] = {"provider",
                                          "base_url",
                                          "api_key",
                                          "model",
                                          "anthropic.version",
                                          "timeout.connect",
                                          "timeout.first_byte",
                                          "timeout.total",
                                          "timeout.idle",
                                          "embeddings.concurrency",
                                          "header."};
constexpr std::string_view kShared[] = {
    "max_connections_per_host",
    "max_connections",
    "http2",
    "tls.verify",
    "tls.ca_file",
    "proxy",
    "scopes",
    "prices",
    "retry.",
    "breaker",
    "breaker.",
    "deployments",
    "fallbacks",
    "route.",
    "cache.scope",
    "application",
    "budgets",
    "budget.",
    "trace",
    "trace.queue",
    "trace.on_full",
    "trace.content",
    "trace.close_timeout_ms",
    "metrics",
    "metrics.max_series"};  // scopes to here: read by pipeline::Pipeline
constexpr auto kKnown = [] {
  std::array<std::string_view, std::size(kEndpoint) + std::size(kShared)> all{};
  std::copy(std::begin(kShared), std::end(kShared),
            std::copy(std::begin(kEndpoint), std::end(kEndpoint), all.begin()));
  return all;
}();
constexpr std::string_view kCallKnown[] = {
    "stream",
    "raw",
    "dimensions",
    "timeout.connect",
    "timeout.first_byte",
    "timeout.total",
    "timeout.idle",
    "header.",
    "tags",
    "meta.",
    "deadline_ms",
    "route.key",
    "cache",
    "caller",
    "ratelimit.wait_ms"};  // tags to here: read by pipeline::Pipeline
// An error body is kept up to this size: enough for any provider's message.
constexpr std::size_t kMaxErrorBody = 1 << 20;
constexpr std::int64_t kMaxMs = std::int64_t{1} << 40;

std::string_view default_base_url(std::string_view provider) {
  if (provider == "openai") return "https://api.openai.com/v1";
  if (provider == "anthropic") return "https://api.anthropic.com";
  if (provider == "gemini") return "https://generativelanguage.googleapis.com/v1beta";
  if (provider == "ollama") return "http://localhost:11434";
  return {};
}

// The environment variables a provider's key comes from; none for servers
// of other parties, so that a key meant for OpenAI never reaches them.
String key_from_environment(std::string_view provider,
                            const std::function<const char*(const char*)>& env) {
  const auto get = [&](const char* name) {
    const char* v = env ? env(name) : nullptr;
    return v != nullptr ? make_string(v) : String();
  };
  if (provider == "openai") return get("OPENAI_API_KEY");
  if (provider == "anthropic") return get("ANTHROPIC_API_KEY");
  if (provider == "gemini") {
    String key = get("GEMINI_API_KEY");
    return key.empty() ? get("GOOGLE_API_KEY") : key;
  }
  return {};
}

http::Timeouts timeouts_of(const Options& o, http::Timeouts base) {
  if (!o.any_under("timeout.")) return base;
  base.connect_ms = o.get_int("timeout.connect", base.connect_ms, 0, kMaxMs);
  base.first_byte_ms = o.get_int("timeout.first_byte", base.first_byte_ms, 0, kMaxMs);
  base.total_ms = o.get_int("timeout.total", base.total_ms, 0, kMaxMs);
  base.idle_ms = o.get_int("timeout.idle", base.idle_ms, 0, kMaxMs);
  return base;
}

}  // namespace

http::Settings transport_settings(const Options& o,
                                  const std::function<const char*(const char*)>& environment) {
  http::Settings s;
  s.max_connections_per_host = o.get_int("max_connections_per_host", 0, 0, 1 << 20);
  s.max_connections = o.get_int("max_connections", 0, 0, 1 << 20);
  s.http2 = o.get_bool("http2").value_or(true);
  s.verify_tls = o.get_bool("tls.verify").value_or(true);
  s.ca_file = make_string(o.get_string("tls.ca_file", ""));
  s.proxies = http::Proxies::of(o.get_string("proxy", ""), environment);
  return s;
}

void require_known(const Options& options) {
  options.require_known(kKnown, "the client");
}

std::span<const std::string_view> endpoint_options() {
  return kEndpoint;
}

namespace {

// Appends the "header.NAME" options as headers.
void add_headers(const Options& o, http::Request& r) {
  o.for_each("header.", [&](std::string_view name, std::string_view value) {
    if (value.find_first_of("\r\n") != std::string_view::npos) {
      fail(LLMKIT_INVALID_ARGUMENT,
           "the value of header." + std::string(name) + " holds a line break");
    }
    providers::add_header(r, name, value);
  });
}

const providers::Provider& provider_of(const Options& o) {
  require_known(o);
  const String* name = o.find("provider");
  if (name == nullptr) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "the client needs \"provider\": openai, openai-compatible, anthropic, gemini or ollama");
  }
  return providers::provider(*name);
}

// A cancel signal of one call that also fires when the caller's does.
class LinkedCancel {
 public:
  explicit LinkedCancel(const Cancel* parent) : parent_(parent), watch_(&fire, this) {
    if (parent_ == nullptr) return;
    parent_->watch(watch_);
    if (parent_->triggered()) own_.trigger();
  }
  ~LinkedCancel() {
    if (parent_ != nullptr) parent_->unwatch(watch_);
  }
  LinkedCancel(const LinkedCancel&) = delete;
  LinkedCancel& operator=(const LinkedCancel&) = delete;
  Cancel& get() { return own_; }

 private:
  static void fire(void* self) { static_cast<LinkedCancel*>(self)->own_.trigger(); }
  const Cancel* parent_;
  Cancel own_;
  Cancel::Watch watch_;
};

// One call's exchange: the answer's head and body in, a Result out.
struct Exchange {
  Exchange(const providers::Provider& p, bool stream_, bool raw_, Client::ChunkFn fn)
      : provider(p),
        stream(stream_),
        keep_raw(raw_),
        on_chunk(std::move(fn)),
        response(std::make_unique<Response>()),
        start_us(now_us()) {}

  void head(int status, const http::Headers& h) {
    http_status = status;
    if (!ok()) headers = h;  // only an error answer reads them (read_error)
    if (ok() && stream) {
      decoder = provider.decoder(*response, [this](const Delta& d) { delta(d); });
    }
  }

  bool ok() const { return http_status >= 200 && http_status < 300; }

  // Throws to stop the call (a malformed stream, a callback's status).
  void body(std::string_view bytes) {
    if (keep_raw) response->raw.append(bytes.data(), bytes.size());
    if (!ok()) {
      const std::size_t room = kMaxErrorBody - std::min(kMaxErrorBody, text.size());
      text.append(bytes.data(), std::min(room, bytes.size()));
    } else if (decoder) {
      decoder->feed(bytes);
    } else {
      text.append(bytes.data(), bytes.size());
    }
  }

  void delta(const Delta& d) {
    const std::int64_t t = now_us();
    if (response->first_token_us < 0) {
      response->first_token_us = t - start_us;
    } else {
      response->max_gap_us = std::max(response->max_gap_us, t - last_us);
    }
    last_us = t;
    if (!on_chunk) return;
    const llmkit_status s = on_chunk(d);
    if (s != LLMKIT_OK) {
      stopped = s;
      fail(s, "the stream callback stopped the call");
    }
  }

  Result finish(llmkit_status status, std::string_view message) {
    Result out;
    response->latency_us = now_us() - start_us;
    response->http_status = http_status;
    const bool answered = http_status != 0;
    if (status != LLMKIT_OK) {
      out.status = stopped != LLMKIT_OK ? stopped : status;
      out.message = make_string(message);
      if (answered && out.status != LLMKIT_CANCELLED) out.response = std::move(response);
      return out;
    }
    try {
      if (!ok()) {
        read_error();
      } else if (decoder) {
        decoder->finish();
      } else {
        provider.parse(text, *response);
      }
    } catch (const Error& e) {
      out.status = e.status();
      out.message = make_string(e.what());
      out.response = std::move(response);
      return out;
    }
    out.status = response->status;
    if (out.status != LLMKIT_OK) {
      out.message = make_string(provider.name());
      if (http_status != 0 && !ok()) out.message += " answered HTTP " + std::to_string(http_status);
      out.message += ": " + response->message;
    }
    out.response = std::move(response);
    return out;
  }

  void read_error() {
    try {
      provider.parse(text, *response);
    } catch (const Error&) {
      // Not the provider's error format (a proxy's page, say): its start
      // says what happened.
    }
    if (response->status == LLMKIT_OK) {
      std::string_view start(text);
      start = start.substr(0, 200);
      providers::set_error(*response, providers::status_for_http(http_status),
                           utf8::first_invalid(start) ? std::string_view("(not UTF-8)") : start);
    }
    providers::apply_http_status(*response, http_status, headers, std::time(nullptr));
  }

  const providers::Provider& provider;
  bool stream;
  bool keep_raw;
  Client::ChunkFn on_chunk;
  std::unique_ptr<Response> response;
  std::unique_ptr<providers::StreamDecoder> decoder;
  std::int64_t start_us;
  std::int64_t last_us = 0;
  int http_status = 0;
  http::Headers headers;
  String text;  // a whole answer, or an error answer
  llmkit_status stopped = LLMKIT_OK;
};

// A whole answer, read by whichever thread drives the loop (the caller's
// own when the loop is idle, see http/transport.cpp); no user code runs here.
class WholeReceiver final : public http::Receiver {
 public:
  explicit WholeReceiver(Exchange& call) : call_(call) {}

  void on_head(int status, const http::Headers& headers) override { call_.head(status, headers); }
  bool on_body(std::string_view bytes) override {
    call_.body(bytes);
    return true;
  }
  void on_done(llmkit_status status, std::string_view message) override {
    status_ = status;
    message_ = make_string(message);
  }
  Result finish() { return call_.finish(status_, message_); }

 private:
  Exchange& call_;
  llmkit_status status_ = LLMKIT_OK;
  String message_;
};

// A stream read on the loop thread, its pieces queued for the caller's
// thread, where the stream callback runs: a slow callback then holds back
// no other call.
class StreamReceiver final : public http::Receiver {
 public:
  StreamReceiver() : sync_(std::allocate_shared<Sync>(Allocator<Sync>())) {}

  // The caller is woken after the lock is released: woken under it, it would
  // only block again on the mutex, a second round of context switches per
  // piece. `sync` is held by a copy, since once done is set the caller may
  // return and destroy this receiver before notify_one runs.
  void on_head(int status, const http::Headers& headers) override {
    {
      std::lock_guard<std::mutex> lock(sync_->mutex);
      status_ = status;
      headers_ = headers;
      has_head_ = true;
    }
    sync_->cv.notify_one();
  }
  bool on_body(std::string_view bytes) override {
    {
      std::lock_guard<std::mutex> lock(sync_->mutex);
      pieces_.emplace_back(bytes.data(), bytes.size());
    }
    sync_->cv.notify_one();
    return true;
  }
  void on_done(llmkit_status status, std::string_view message) override {
    const std::shared_ptr<Sync> sync = sync_;
    {
      std::lock_guard<std::mutex> lock(sync->mutex);
      done_status_ = status;
      done_message_ = make_string(message);
      done_ = true;
    }
    sync->cv.notify_one();
  }

  // Feeds `call` on this thread until the transfer ends; `stop` ends the
  // transfer early when feeding throws.
  Result run(Exchange& call, Cancel& stop) {
    std::unique_lock<std::mutex> lock(sync_->mutex);
    bool head_seen = false;
    for (;;) {
      sync_->cv.wait(lock, [&] { return (has_head_ && !head_seen) || !pieces_.empty() || done_; });
      if (has_head_ && !head_seen) {
        head_seen = true;
        const int status = status_;
        const http::Headers headers = headers_;
        lock.unlock();
        feed(stop, [&] { call.head(status, headers); });
        lock.lock();
      }
      while (!pieces_.empty()) {
        const String piece = std::move(pieces_.front());
        pieces_.pop_front();
        lock.unlock();
        feed(stop, [&] { call.body(piece); });
        lock.lock();
      }
      if (done_ && pieces_.empty()) break;
    }
    const llmkit_status status = failed_ != LLMKIT_OK ? failed_ : done_status_;
    const String message = failed_ != LLMKIT_OK ? failed_message_ : done_message_;
    lock.unlock();
    return call.finish(status, message);
  }

 private:
  struct Sync {
    std::mutex mutex;
    std::condition_variable cv;
  };

  template <class F>
  void feed(Cancel& stop, F step) {
    if (failed_ != LLMKIT_OK) return;  // stopped: the rest is drained unread
    try {
      step();
    } catch (const Error& e) {
      failed_ = e.status();
      failed_message_ = make_string(e.what());
      stop.trigger();
    }
  }

  std::shared_ptr<Sync> sync_;
  bool has_head_ = false;
  int status_ = 0;
  http::Headers headers_;
  std::deque<String, Allocator<String>> pieces_;
  bool done_ = false;
  llmkit_status done_status_ = LLMKIT_OK;
  String done_message_;
  llmkit_status failed_ = LLMKIT_OK;  // the caller's side stopped the call
  String failed_message_;
};

// Runs on the loop thread from start to end, then hands the Result over.
class AsyncReceiver final : public http::Receiver {
 public:
  AsyncReceiver(std::unique_ptr<Exchange> call, Client::DoneFn done)
      : call_(std::move(call)), done_(std::move(done)) {}
  http::Request request;  // kept alive for the transfer

  void on_head(int status, const http::Headers& headers) override { call_->head(status, headers); }
  bool on_body(std::string_view bytes) override {
    call_->body(bytes);
    return true;
  }
  void on_done(llmkit_status status, std::string_view message) override {
    std::unique_ptr<AsyncReceiver> self(this);  // the last thing the transfer touches
    Result r = call_->finish(status, message);
    try {
      done_(std::move(r));
    } catch (...) {  // NOLINT(bugprone-empty-catch): a callback's failure is its own
    }
  }

 private:
  std::unique_ptr<Exchange> call_;
  Client::DoneFn done_;
};

// Gathers one embeddings batch's answer.
struct BatchReceiver final : http::Receiver {
  http::Request request;
  int status = 0;
  http::Headers headers;
  String body;
  llmkit_status done_status = LLMKIT_OK;
  String message;
  std::function<void()> next;  // starts the next batch, counts this one done

  void on_head(int s, const http::Headers& h) override {
    status = s;
    headers = h;
  }
  bool on_body(std::string_view bytes) override {
    body.append(bytes.data(), bytes.size());
    return true;
  }
  void on_done(llmkit_status s, std::string_view m) override {
    done_status = s;
    message = make_string(m);
    next();
  }
};

}  // namespace

Client::Client(const Options& options, const std::function<const char*(const char*)>& environment,
               http::Transport& transport)
    : options_(options),
      provider_(provider_of(options)),
      model_(make_string(options.get_string("model", ""))),
      timeouts_(timeouts_of(options, http::Timeouts{})),
      embed_concurrency_(options.get_int("embeddings.concurrency", 4, 1, 256)),
      transport_(transport) {
  const std::string_view name = provider_.name();
  String base = make_string(options.get_string("base_url", default_base_url(name)));
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.empty())
    fail(LLMKIT_INVALID_ARGUMENT, "\"base_url\" is required for " + std::string(name));
  endpoint_.base_url = std::move(base);
  const String* key = options.find("api_key");
  endpoint_.api_key = key != nullptr ? *key : key_from_environment(name, environment);
  if (endpoint_.api_key.empty() && (name == "openai" || name == "anthropic" || name == "gemini")) {
    fail(LLMKIT_AUTH, std::string(name) + " needs an API key: the \"api_key\" option or " +
                          (name == "openai"      ? "OPENAI_API_KEY"
                           : name == "anthropic" ? "ANTHROPIC_API_KEY"
                                                 : "GEMINI_API_KEY or GOOGLE_API_KEY"));
  }
  utf8::require_valid(endpoint_.api_key, "api_key");
  if (endpoint_.api_key.find_first_of("\r\n") != String::npos) {
    fail(LLMKIT_INVALID_ARGUMENT, "the API key holds a line break");
  }
  endpoint_.version = make_string(options.get_string("anthropic.version", "2023-06-01"));
}

Client::~Client() = default;

http::Request Client::build(const providers::ChatRequest& request, bool stream,
                            const Options* call_options, const Attempt& attempt) const {
  // The model asked for: the attempt's (a deployment's), the request's, or
  // the client's.
  const std::string_view model = !attempt.model.empty()   ? attempt.model
                                 : !request.model.empty() ? std::string_view(request.model)
                                                          : std::string_view(model_);
  if (model.empty()) {
    fail(LLMKIT_INVALID_ARGUMENT, "the request names no model and the client has no \"model\"");
  }
  http::Request r = provider_.chat_request(endpoint_, request, model, stream);
  r.timeouts = call_options != nullptr ? timeouts_of(*call_options, timeouts_) : timeouts_;
  if (attempt.total_cap_ms > 0) {
    std::int64_t& total = r.timeouts.total_ms;
    total = total > 0 ? std::min(total, attempt.total_cap_ms) : attempt.total_cap_ms;
  }
  r.delay_ms = attempt.delay_ms;
  add_headers(options_, r);
  if (call_options != nullptr) add_headers(*call_options, r);
  return r;
}

namespace {

struct CallFlags {
  bool stream;
  bool raw;
};

CallFlags flags_of(const Options* call_options, bool has_callback) {
  if (call_options == nullptr) return {has_callback, false};
  call_options->require_known(kCallKnown, "a call");
  return {has_callback || call_options->get_bool("stream").value_or(false),
          call_options->get_bool("raw").value_or(false)};
}

}  // namespace

Result Client::chat(const providers::ChatRequest& request, const Options* call_options,
                    const Cancel* cancel, const ChunkFn& on_chunk, const Attempt& attempt) {
  const CallFlags flags = flags_of(call_options, static_cast<bool>(on_chunk));
  Exchange call(provider_, flags.stream, flags.raw, on_chunk);
  http::Request r = build(request, flags.stream, call_options, attempt);
  if (!flags.stream) {
    r.cancel = cancel;
    WholeReceiver receiver(call);
    transport_.perform(std::move(r), receiver);
    return receiver.finish();
  }
  LinkedCancel stop(cancel);
  r.cancel = &stop.get();
  StreamReceiver receiver;
  transport_.start(std::move(r), receiver);
  return receiver.run(call, stop.get());
}

void Client::chat_async(const providers::ChatRequest& request, const Options* call_options,
                        const Cancel* cancel, ChunkFn on_chunk, DoneFn done,
                        const Attempt& attempt) {
  const CallFlags flags = flags_of(call_options, static_cast<bool>(on_chunk));
  http::Request r = build(request, flags.stream, call_options, attempt);
  r.cancel = cancel;
  auto receiver = std::make_unique<AsyncReceiver>(
      std::make_unique<Exchange>(provider_, flags.stream, flags.raw, std::move(on_chunk)),
      std::move(done));
  transport_.start(std::move(r), *receiver);
  (void)receiver.release();  // on_done frees it
}

Vectors Client::embed(std::string_view model, const providers::Vector<String>& inputs,
                      const Options* call_options, const Cancel* cancel) {
  std::optional<std::int64_t> dimensions;
  http::Timeouts timeouts = timeouts_;
  if (call_options != nullptr) {
    call_options->require_known(kCallKnown, "an embeddings call");
    dimensions = call_options->get_int("dimensions");
    timeouts = timeouts_of(*call_options, timeouts_);
  }
  const String model_name = model.empty() ? model_ : make_string(model);
  if (model_name.empty()) fail(LLMKIT_INVALID_ARGUMENT, "no embeddings model given");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    utf8::require_valid(inputs[i], "texts[" + std::to_string(i) + "]");
  }
  Vectors out;
  if (inputs.empty()) return out;
  const std::size_t per = provider_.embed_batch();
  if (per == 0) fail(LLMKIT_UNSUPPORTED, std::string(provider_.name()) + " has no embeddings API");
  const std::size_t batches = (inputs.size() + per - 1) / per;

  LinkedCancel stop(cancel);
  providers::Vector<std::unique_ptr<BatchReceiver>> receivers;
  for (std::size_t b = 0; b < batches; ++b) {
    providers::EmbedRequest er;
    er.model = model_name;
    er.dimensions = dimensions;
    const std::size_t end = std::min(inputs.size(), (b + 1) * per);
    er.inputs.assign(inputs.begin() + static_cast<std::ptrdiff_t>(b * per),
                     inputs.begin() + static_cast<std::ptrdiff_t>(end));
    auto rec = std::make_unique<BatchReceiver>();
    rec->request = provider_.embed_request(endpoint_, er);
    add_headers(options_, rec->request);
    if (call_options != nullptr) add_headers(*call_options, rec->request);
    rec->request.timeouts = timeouts;
    rec->request.cancel = &stop.get();
    receivers.push_back(std::move(rec));
  }
  // Batches start "embeddings.concurrency" at a time; each one that ends
  // starts the next, on the loop thread.
  std::mutex mutex;
  std::condition_variable all_done;
  std::size_t started = 0;
  std::size_t finished = 0;
  const auto start_next = [&] {
    BatchReceiver* r = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (started < receivers.size()) r = receivers[started++].get();
    }
    if (r != nullptr) transport_.start(std::move(r->request), *r);
  };
  for (auto& owned : receivers) {
    BatchReceiver* r = owned.get();
    r->next = [&, r] {
      if (r->done_status != LLMKIT_OK || r->status < 200 || r->status >= 300) stop.get().trigger();
      start_next();
      std::lock_guard<std::mutex> lock(mutex);
      if (++finished == receivers.size()) all_done.notify_one();
    };
  }
  for (std::int64_t i = 0; i < embed_concurrency_; ++i) start_next();
  {
    std::unique_lock<std::mutex> lock(mutex);
    all_done.wait(lock, [&] { return finished == receivers.size(); });
  }
  // Report the first batch (in input order) that failed for its own reason,
  // not one cancelled because another failed.
  const BatchReceiver* failed = nullptr;
  for (const auto& r : receivers) {
    const bool bad = r->done_status != LLMKIT_OK || r->status < 200 || r->status >= 300;
    if (bad && (failed == nullptr || failed->done_status == LLMKIT_CANCELLED)) failed = r.get();
  }
  if (failed != nullptr) {
    if (failed->done_status != LLMKIT_OK) fail(failed->done_status, std::string(failed->message));
    Exchange call(provider_, false, false, {});
    call.head(failed->status, failed->headers);
    call.body(failed->body);
    throw EmbedFailure(call.finish(LLMKIT_OK, {}));
  }
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t n = std::min(inputs.size(), (b + 1) * per) - b * per;
    out.input_tokens += provider_.parse_embeddings(receivers[b]->body, n, out.values);
  }
  return out;
}

}  // namespace llmkit::client
