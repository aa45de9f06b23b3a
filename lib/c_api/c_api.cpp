// The C boundary: the only file that implements include/llmkit.h.
//
// Every exported function turns handles into core objects, runs the core
// inside guard(), and turns any exception into an llmkit_status plus the
// thread's last-error message. No exception ever leaves this file.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <forward_list>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "cache/cache.h"
#include "cache/embeddings.h"
#include "cache/replay.h"
#include "client/client.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "core/utf8.h"
#include "hooks/registry.h"
#include "llmkit.h"
#include "metrics/from_traces.h"
#include "metrics/prometheus.h"
#include "metrics/server.h"
#include "metrics/stats_json.h"
#include "options/options.h"
#include "pipeline/pipeline.h"
#include "providers/response.h"
#include "ratelimit/limiter.h"
#include "tokenize/catalog.h"
#include "tokenize/count.h"
#include "trace/aggregate.h"
#include "trace/writer.h"

// The opaque handle types are the core objects themselves.
struct llmkit_options : llmkit::Options {};
struct llmkit_cancel : llmkit::Cancel {};
struct llmkit_ratelimiter : llmkit::ratelimit::Limiter {
  using Limiter::Limiter;
};
struct llmkit_cache : llmkit::cache::Cache {
  using Cache::Cache;
};
struct llmkit_embeddings : llmkit::cache::EmbeddingBatch {
  using EmbeddingBatch::EmbeddingBatch;
};
struct llmkit_replay : llmkit::cache::Replay {
  using Replay::Replay;
};
struct llmkit_tokenizer {
  const llmkit::tokenize::Encoding* encoding;
};

namespace {

thread_local llmkit::String t_error_storage;
thread_local const char* t_error = "";

void clear_error() noexcept {
  t_error = "";
}

llmkit_status set_error(llmkit_status status, std::string_view message) noexcept {
  try {
    t_error_storage.assign(message.data(), message.size());
    t_error = t_error_storage.c_str();
  } catch (...) {
    t_error = "out of memory while recording an error";
  }
  return status;
}

template <class F>
llmkit_status guard(F&& body) noexcept {
  try {
    body();
    clear_error();
    return LLMKIT_OK;
  } catch (const llmkit::Error& e) {
    return set_error(e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return set_error(LLMKIT_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return set_error(LLMKIT_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_error(LLMKIT_INTERNAL, "internal error: unknown exception");
  }
}

template <class T>
T& require(T* p, const char* name) {
  if (p == nullptr) llmkit::fail(LLMKIT_INVALID_ARGUMENT, std::string(name) + " is NULL");
  return *p;
}

const char* require_str(const char* s, const char* name) {
  return &require(s, name);
}

// The statistic called `name` among `known`; NOT_FOUND naming `what` and
// listing the known names otherwise.
template <class T, std::size_t N>
T stat_named(const std::pair<std::string_view, T> (&known)[N], std::string_view name,
             std::string_view what) {
  std::string names;
  for (const auto& [name_of, stat] : known) {
    if (name == name_of) return stat;
    names += (names.empty() ? "" : ", ") + std::string(name_of);
  }
  llmkit::fail(LLMKIT_NOT_FOUND, "no " + std::string(what) + " statistic " +
                                     llmkit::utf8::quote(name) + " (known: " + names + ")");
}

}  // namespace

/* ---- version ---------------------------------------------------------- */

extern "C" const char* llmkit_version(void) {
  return LLMKIT_VERSION_STRING;
}

extern "C" int llmkit_version_number(void) {
  return LLMKIT_VERSION_NUMBER;
}

/* ---- errors ------------------------------------------------------------ */

extern "C" const char* llmkit_status_str(llmkit_status status) {
  switch (status) {
    case LLMKIT_OK:
      return "OK";
    case LLMKIT_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case LLMKIT_NOT_FOUND:
      return "NOT_FOUND";
    case LLMKIT_RATE_LIMITED:
      return "RATE_LIMITED";
    case LLMKIT_TIMEOUT:
      return "TIMEOUT";
    case LLMKIT_NETWORK:
      return "NETWORK";
    case LLMKIT_PROVIDER_ERROR:
      return "PROVIDER_ERROR";
    case LLMKIT_AUTH:
      return "AUTH";
    case LLMKIT_CANCELLED:
      return "CANCELLED";
    case LLMKIT_OUT_OF_MEMORY:
      return "OUT_OF_MEMORY";
    case LLMKIT_INTERNAL:
      return "INTERNAL";
    case LLMKIT_UNSUPPORTED:
      return "UNSUPPORTED";
    case LLMKIT_BUDGET_EXCEEDED:
      return "BUDGET_EXCEEDED";
    case LLMKIT_QUEUE_FULL:
      return "QUEUE_FULL";
    case LLMKIT_UNAVAILABLE:
      return "UNAVAILABLE";
    case LLMKIT_OVERLOADED:
      return "OVERLOADED";
  }
  return "UNKNOWN";
}

extern "C" const char* llmkit_last_error(void) {
  return t_error;
}

/* ---- options ------------------------------------------------------------ */

extern "C" llmkit_status llmkit_options_new(llmkit_options** out) {
  return guard([&] {
    require(out, "out");
    *out = llmkit::create<llmkit_options>();
  });
}

extern "C" llmkit_status llmkit_options_copy(const llmkit_options* options, llmkit_options** out) {
  return guard([&] {
    const auto& src = require(options, "options");
    require(out, "out");
    *out = llmkit::create<llmkit_options>(src);
  });
}

extern "C" void llmkit_options_free(llmkit_options* options) {
  llmkit::destroy(options);
}

extern "C" llmkit_status llmkit_options_set(llmkit_options* options, const char* key,
                                            const char* value) {
  return guard([&] {
    auto& o = require(options, "options");
    o.set(require_str(key, "key"), require_str(value, "value"));
  });
}

extern "C" llmkit_status llmkit_options_unset(llmkit_options* options, const char* key) {
  return guard([&] {
    auto& o = require(options, "options");
    const char* k = require_str(key, "key");
    if (!o.unset(k))
      llmkit::fail(LLMKIT_NOT_FOUND, "option " + llmkit::utf8::quote(k) + " is not set");
  });
}

extern "C" llmkit_status llmkit_options_get(const llmkit_options* options, const char* key,
                                            const char** value) {
  return guard([&] {
    const auto& o = require(options, "options");
    const char* k = require_str(key, "key");
    require(value, "value");
    const llmkit::String* v = o.find(k);
    if (v == nullptr)
      llmkit::fail(LLMKIT_NOT_FOUND, "option " + llmkit::utf8::quote(k) + " is not set");
    *value = v->c_str();
  });
}

extern "C" llmkit_status llmkit_options_count(const llmkit_options* options, size_t* count) {
  return guard([&] {
    const auto& o = require(options, "options");
    require(count, "count") = o.size();
  });
}

/* ---- token counting ------------------------------------------------------ */

namespace {

namespace tk = llmkit::tokenize;

tk::SpecialMode special_mode(llmkit_special_mode mode) {
  switch (mode) {
    case LLMKIT_SPECIAL_DISALLOW:
      return tk::SpecialMode::kDisallow;
    case LLMKIT_SPECIAL_ALLOW:
      return tk::SpecialMode::kAllow;
    case LLMKIT_SPECIAL_AS_TEXT:
      return tk::SpecialMode::kAsText;
  }
  llmkit::fail(LLMKIT_INVALID_ARGUMENT, "unknown special-token mode " + std::to_string(mode));
}

// Bytes in: NULL is only valid for an empty text.
std::string_view bytes_in(const char* text, size_t len, const char* name) {
  if (text == nullptr && len != 0) {
    llmkit::fail(LLMKIT_INVALID_ARGUMENT, std::string(name) + " is NULL");
  }
  return text == nullptr ? std::string_view() : std::string_view(text, len);
}

const tk::Encoding& encoding_of(const llmkit_tokenizer* tokenizer) {
  return *require(tokenizer, "tokenizer").encoding;
}

}  // namespace

extern "C" llmkit_status llmkit_tokenizer_new(const char* encoding, llmkit_tokenizer** out) {
  return guard([&] {
    const char* name = require_str(encoding, "encoding");
    require(out, "out");
    *out = llmkit::create<llmkit_tokenizer>(llmkit_tokenizer{&tk::encoding(name)});
  });
}

extern "C" void llmkit_tokenizer_free(llmkit_tokenizer* tokenizer) {
  llmkit::destroy(tokenizer);
}

extern "C" const char* llmkit_tokenizer_name(const llmkit_tokenizer* tokenizer) {
  // The catalog's names are NUL-terminated literals.
  return tokenizer == nullptr ? nullptr : tokenizer->encoding->name().data();
}

extern "C" llmkit_status llmkit_tokenizer_n_vocab(const llmkit_tokenizer* tokenizer,
                                                  size_t* n_vocab) {
  return guard([&] { require(n_vocab, "n_vocab") = encoding_of(tokenizer).n_vocab(); });
}

extern "C" llmkit_status llmkit_encoding_for_model(const char* model, const char** encoding) {
  return guard([&] {
    const char* m = require_str(model, "model");
    require(encoding, "encoding");
    *encoding = tk::encoding_for_model(m).data();
  });
}

extern "C" llmkit_status llmkit_tokenizer_encode(const llmkit_tokenizer* tokenizer,
                                                 const char* text, size_t len,
                                                 llmkit_special_mode mode, uint32_t* ids,
                                                 size_t capacity, size_t* n_ids) {
  return guard([&] {
    const tk::Encoding& enc = encoding_of(tokenizer);
    require(n_ids, "n_ids");
    tk::TokenOut out{ids, ids == nullptr ? 0 : capacity, 0};
    enc.encode(bytes_in(text, len, "text"), special_mode(mode), out);
    *n_ids = out.n;
    if (ids != nullptr && out.n > capacity) {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT, "ids has room for " + std::to_string(capacity) +
                                                " tokens, the text needs " + std::to_string(out.n));
    }
  });
}

extern "C" llmkit_status llmkit_tokenizer_count(const llmkit_tokenizer* tokenizer, const char* text,
                                                size_t len, llmkit_special_mode mode,
                                                size_t* count) {
  return guard([&] {
    const tk::Encoding& enc = encoding_of(tokenizer);
    require(count, "count") = enc.count(bytes_in(text, len, "text"), special_mode(mode));
  });
}

extern "C" llmkit_status llmkit_tokenizer_count_batch(const llmkit_tokenizer* tokenizer,
                                                      const char* const* texts, const size_t* lens,
                                                      size_t n, llmkit_special_mode mode,
                                                      size_t* counts) {
  return guard([&] {
    const tk::Encoding& enc = encoding_of(tokenizer);
    const tk::SpecialMode m = special_mode(mode);
    if (n == 0) return;
    require(texts, "texts");
    require(lens, "lens");
    require(counts, "counts");
    std::vector<std::string_view> views(n);
    for (size_t i = 0; i < n; ++i) {
      views[i] = bytes_in(texts[i], lens[i], ("texts[" + std::to_string(i) + "]").c_str());
    }
    tk::count_batch(enc, views, m, std::span<size_t>(counts, n));
  });
}

extern "C" llmkit_status llmkit_tokenizer_decode(const llmkit_tokenizer* tokenizer,
                                                 const uint32_t* ids, size_t n, char* buf,
                                                 size_t capacity, size_t* len) {
  return guard([&] {
    const tk::Encoding& enc = encoding_of(tokenizer);
    require(len, "len");
    if (n != 0) require(ids, "ids");
    const std::size_t need =
        enc.decode(std::span<const uint32_t>(ids, n), buf, buf == nullptr ? 0 : capacity);
    *len = need;
    if (buf != nullptr && need > capacity) {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT, "buf has room for " + std::to_string(capacity) +
                                                " bytes, the ids need " + std::to_string(need));
    }
  });
}

extern "C" llmkit_status llmkit_count_tokens(const char* model, const char* text, size_t len,
                                             size_t* count) {
  return guard([&] {
    const char* m = require_str(model, "model");
    require(count, "count");
    const tk::Encoding& enc = tk::encoding(tk::encoding_for_model(m));
    *count = enc.count(bytes_in(text, len, "text"), tk::SpecialMode::kAsText);
  });
}

extern "C" llmkit_status llmkit_count_tokens_chat(const char* model, const char* messages_json,
                                                  size_t messages_len, const char* tools_json,
                                                  size_t tools_len, size_t* count) {
  return guard([&] {
    const char* m = require_str(model, "model");
    require(count, "count");
    *count = tk::count_chat(m, bytes_in(messages_json, messages_len, "messages_json"),
                            bytes_in(tools_json, tools_len, "tools_json"));
  });
}

extern "C" llmkit_status llmkit_estimate_tokens(const char* model, const char* text, size_t len,
                                                size_t* count, int* exact) {
  return guard([&] {
    const char* m = require_str(model, "model");
    require(count, "count");
    const tk::Estimate e = tk::estimate(m, bytes_in(text, len, "text"));
    *count = e.count;
    if (exact != nullptr) *exact = e.exact ? 1 : 0;
  });
}

/* ---- cancellation --------------------------------------------------------- */

extern "C" llmkit_status llmkit_cancel_new(llmkit_cancel** out) {
  return guard([&] { require(out, "out") = llmkit::create<llmkit_cancel>(); });
}

extern "C" void llmkit_cancel_free(llmkit_cancel* cancel) {
  llmkit::destroy(cancel);
}

extern "C" llmkit_status llmkit_cancel_trigger(llmkit_cancel* cancel) {
  return guard([&] { require(cancel, "cancel").trigger(); });
}

/* ---- rate limiting --------------------------------------------------------- */

namespace {

namespace rl = llmkit::ratelimit;

std::int64_t to_int64(uint64_t v, const char* name) {
  if (v > static_cast<uint64_t>(INT64_MAX / 1'000'000'000)) {
    llmkit::fail(LLMKIT_INVALID_ARGUMENT, std::string(name) + " is too large");
  }
  return static_cast<std::int64_t>(v);
}

}  // namespace

extern "C" llmkit_status llmkit_ratelimiter_new(const llmkit_options* options,
                                                llmkit_ratelimiter** out) {
  return guard([&] {
    const auto& o = require(options, "options");
    require(out, "out");
    const rl::Config config = rl::Limiter::config_from(o);
    *out =
        llmkit::create<llmkit_ratelimiter>(rl::make_store(o, config), &rl::Limiter::monotonic_ns);
  });
}

extern "C" void llmkit_ratelimiter_free(llmkit_ratelimiter* limiter) {
  llmkit::destroy(limiter);
}

extern "C" llmkit_status llmkit_ratelimiter_check(llmkit_ratelimiter* limiter, const char* key,
                                                  size_t key_len, uint64_t tokens, int* allowed,
                                                  int64_t* retry_after_ms,
                                                  int64_t* remaining_requests,
                                                  int64_t* remaining_tokens) {
  return guard([&] {
    auto& l = require(limiter, "limiter");
    require(allowed, "allowed");
    const rl::Decision d = l.check(bytes_in(key, key_len, "key"), to_int64(tokens, "tokens"));
    *allowed = d.allowed ? 1 : 0;
    if (retry_after_ms != nullptr) {
      *retry_after_ms = d.retry_after_ns < 0 ? -1 : (d.retry_after_ns + 999'999) / 1'000'000;
    }
    if (remaining_requests != nullptr) *remaining_requests = d.remaining_requests;
    if (remaining_tokens != nullptr) *remaining_tokens = d.remaining_tokens;
  });
}

extern "C" llmkit_status llmkit_ratelimiter_acquire(llmkit_ratelimiter* limiter, const char* key,
                                                    size_t key_len, uint64_t tokens,
                                                    int64_t timeout_ms,
                                                    const llmkit_cancel* cancel) {
  return guard([&] {
    auto& l = require(limiter, "limiter");
    if (timeout_ms < 0 || timeout_ms > INT64_MAX / 4'000'000) {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT, "timeout_ms must be between 0 and about 73 years");
    }
    l.acquire(bytes_in(key, key_len, "key"), to_int64(tokens, "tokens"), timeout_ms * 1'000'000,
              cancel);
  });
}

extern "C" llmkit_status llmkit_ratelimiter_release(llmkit_ratelimiter* limiter, const char* key,
                                                    size_t key_len) {
  return guard([&] {
    auto& l = require(limiter, "limiter");
    if (!l.release(bytes_in(key, key_len, "key"))) {
      llmkit::fail(LLMKIT_NOT_FOUND, "the key holds no concurrency slot");
    }
  });
}

extern "C" llmkit_status llmkit_ratelimiter_reconcile(llmkit_ratelimiter* limiter, const char* key,
                                                      size_t key_len, uint64_t reserved,
                                                      uint64_t actual) {
  return guard([&] {
    auto& l = require(limiter, "limiter");
    l.reconcile(bytes_in(key, key_len, "key"), to_int64(reserved, "reserved"),
                to_int64(actual, "actual"));
  });
}

extern "C" llmkit_status llmkit_ratelimiter_stat(const llmkit_ratelimiter* limiter,
                                                 const char* name, uint64_t* value) {
  return guard([&] {
    const auto& l = require(limiter, "limiter");
    const std::string_view n = require_str(name, "name");
    auto& v = require(value, "value");
    const rl::Counters c = l.counters();
    if (n == "allowed") {
      v = c.allowed;
    } else if (n == "limited") {
      v = c.limited;
    } else if (n == "keys") {
      v = l.store().keys();
    } else if (n == "bytes") {
      v = l.store().bytes();
    } else if (n == "backend_errors") {
      v = l.store().backend_errors();
    } else {
      llmkit::fail(LLMKIT_NOT_FOUND, "no rate limiter statistic " + llmkit::utf8::quote(n) +
                                         " (known: allowed, limited, keys, bytes, backend_errors)");
    }
  });
}

/* ---- response cache ------------------------------------------------------ */

namespace {

namespace lc = llmkit::cache;

lc::Key key_in(const char* key) {
  return lc::Key::from_hex(require_str(key, "key"));
}

// Milliseconds from the API as nanoseconds; `name` for the message.
std::int64_t ms_in(int64_t ms, const char* name) {
  if (ms < 0 || ms > INT64_MAX / 1'000'000) {
    llmkit::fail(LLMKIT_INVALID_ARGUMENT,
                 std::string(name) + " must be between 0 and about 292 years");
  }
  return ms * 1'000'000;
}

lc::Use use_in(const llmkit_options* call_options) {
  if (call_options != nullptr) {
    call_options->require_known(std::initializer_list<std::string_view>{"cache"}, "a cached call");
  }
  return lc::use_of(call_options);
}

}  // namespace

extern "C" llmkit_status llmkit_cache_new(const llmkit_options* options, llmkit_cache** out) {
  return guard([&] {
    const auto& o = require(options, "options");
    require(out, "out") = llmkit::create<llmkit_cache>(o);
  });
}

extern "C" void llmkit_cache_free(llmkit_cache* cache) {
  llmkit::destroy(cache);
}

extern "C" llmkit_status llmkit_cache_key(const llmkit_cache* cache, const char* scope,
                                          const char* provider, const char* request_json,
                                          size_t request_len, const llmkit_options* call_options,
                                          char key[LLMKIT_CACHE_KEY_SIZE], llmkit_cache_use* use) {
  return guard([&] {
    const auto& c = require(cache, "cache");
    const std::string_view p = require_str(provider, "provider");
    require(key, "key");
    require(use, "use");
    const std::string_view s = scope == nullptr ? std::string_view() : std::string_view(scope);
    llmkit::utf8::require_valid(s, "scope");
    llmkit::utf8::require_valid(p, "provider");
    const lc::Use requested = use_in(call_options);
    // One parser per thread: its buffers are reused, so keying allocates
    // nothing once warm (make bench: cache/hit).
    thread_local simdjson::dom::parser parser;
    const auto request =
        llmkit::json::parse(parser, bytes_in(request_json, request_len, "request_json"), "request");
    lc::Use decided = lc::Use::kUse;
    c.key(s, p, request, requested, &decided).to_hex(key);
    key[lc::Key::kHexSize] = '\0';
    *use = static_cast<llmkit_cache_use>(decided);
  });
}

extern "C" llmkit_status llmkit_cache_get(llmkit_cache* cache, const char* key,
                                          llmkit_cache_value** value) {
  return guard([&] {
    auto& c = require(cache, "cache");
    require(value, "value") = nullptr;
    *value = c.get(key_in(key)).release();
  });
}

extern "C" llmkit_status llmkit_cache_lookup(llmkit_cache* cache, const char* key, int64_t wait_ms,
                                             const llmkit_cancel* cancel,
                                             llmkit_cache_value** value, int* fill) {
  return guard([&] {
    auto& c = require(cache, "cache");
    const lc::Key k = key_in(key);
    require(value, "value") = nullptr;
    require(fill, "fill") = 0;
    auto found = c.lookup(k, ms_in(wait_ms, "wait_ms"), cancel);
    *value = found.value.release();
    *fill = found.fill ? 1 : 0;
  });
}

extern "C" llmkit_status llmkit_cache_abandon(llmkit_cache* cache, const char* key) {
  return guard([&] { require(cache, "cache").abandon(key_in(key)); });
}

extern "C" llmkit_status llmkit_cache_put(llmkit_cache* cache, const char* key, const char* value,
                                          size_t len, int64_t ttl_ms) {
  return guard([&] {
    auto& c = require(cache, "cache");
    c.put(key_in(key), bytes_in(value, len, "value"), ms_in(ttl_ms, "ttl_ms"));
  });
}

extern "C" llmkit_status llmkit_cache_invalidate(llmkit_cache* cache, const char* key) {
  return guard([&] { require(cache, "cache").invalidate(key_in(key)); });
}

extern "C" llmkit_status llmkit_cache_clear(llmkit_cache* cache) {
  return guard([&] { require(cache, "cache").clear(); });
}

extern "C" llmkit_status llmkit_cache_stat(const llmkit_cache* cache, const char* name,
                                           uint64_t* value) {
  return guard([&] {
    const auto& c = require(cache, "cache");
    const std::string_view n = require_str(name, "name");
    auto& v = require(value, "value");
    const lc::Stats s = c.stats();
    const std::pair<std::string_view, uint64_t> known[] = {{"hits", s.hits},
                                                           {"misses", s.misses},
                                                           {"evictions", s.tier.evictions},
                                                           {"expirations", s.tier.expirations},
                                                           {"entries", s.tier.entries},
                                                           {"bytes", s.tier.bytes},
                                                           {"waits", s.waits},
                                                           {"backend_errors", s.backend_errors}};
    v = stat_named(known, n, "cache");
  });
}

extern "C" llmkit_status llmkit_cache_value_data(const llmkit_cache_value* value, const char** data,
                                                 size_t* len) {
  return guard([&] {
    const std::string_view b = require(value, "value").bytes();
    require(data, "data") = b.data();
    require(len, "len") = b.size();
  });
}

extern "C" void llmkit_cache_value_free(llmkit_cache_value* value) {
  if (value != nullptr) value->unref();
}

/* ---- embeddings, cached per input ------------------------------------------ */

extern "C" llmkit_status llmkit_embeddings_new(llmkit_cache* cache, const char* scope,
                                               const char* provider, const char* request_json,
                                               size_t request_len, llmkit_embeddings** out) {
  return guard([&] {
    auto& c = require(cache, "cache");
    const std::string_view p = require_str(provider, "provider");
    require(out, "out");
    const std::string_view s = scope == nullptr ? std::string_view() : std::string_view(scope);
    llmkit::utf8::require_valid(s, "scope");
    llmkit::utf8::require_valid(p, "provider");
    *out = llmkit::create<llmkit_embeddings>(c, s, p,
                                             bytes_in(request_json, request_len, "request_json"));
  });
}

extern "C" void llmkit_embeddings_free(llmkit_embeddings* batch) {
  llmkit::destroy(batch);
}

extern "C" llmkit_status llmkit_embeddings_upstream(const llmkit_embeddings* batch,
                                                    size_t* n_misses, const char** request,
                                                    size_t* request_len) {
  return guard([&] {
    const auto& b = require(batch, "batch");
    require(n_misses, "n_misses") = b.misses();
    const std::string_view r = b.upstream_request();
    require(request, "request") = r.empty() ? nullptr : r.data();
    require(request_len, "request_len") = r.size();
  });
}

extern "C" llmkit_status llmkit_embeddings_complete(llmkit_embeddings* batch,
                                                    const char* upstream_response,
                                                    size_t upstream_len, int64_t ttl_ms,
                                                    const char** response, size_t* response_len) {
  return guard([&] {
    auto& b = require(batch, "batch");
    require(response, "response");
    require(response_len, "response_len");
    const std::string_view r = b.complete(
        bytes_in(upstream_response, upstream_len, "upstream_response"), ms_in(ttl_ms, "ttl_ms"));
    *response = r.data();
    *response_len = r.size();
  });
}

/* ---- replaying a cached completion ------------------------------------------ */

extern "C" llmkit_status llmkit_replay_new(const char* completion_json, size_t len,
                                           size_t piece_bytes, llmkit_replay** out) {
  return guard([&] {
    require(out, "out");
    *out = llmkit::create<llmkit_replay>(bytes_in(completion_json, len, "completion_json"),
                                         piece_bytes == 0 ? 64 : piece_bytes);
  });
}

extern "C" void llmkit_replay_free(llmkit_replay* replay) {
  llmkit::destroy(replay);
}

extern "C" llmkit_status llmkit_replay_next(llmkit_replay* replay, const char** chunk,
                                            size_t* len) {
  return guard([&] {
    auto& r = require(replay, "replay");
    require(chunk, "chunk");
    require(len, "len");
    const llmkit::String* c = r.next();
    *chunk = c == nullptr ? nullptr : c->data();
    *len = c == nullptr ? 0 : c->size();
  });
}

/* ---- provider calls ---------------------------------------------------- */

namespace lp = llmkit::providers;

struct llmkit_client : llmkit::pipeline::Pipeline {
  using Pipeline::Pipeline;
};
struct llmkit_request : lp::ChatRequest {};
struct llmkit_response {
  llmkit_response(std::unique_ptr<lp::Response> r, std::string_view p)
      : answer(std::move(r)),
        provider(answer && !answer->provider.empty() ? answer->provider : llmkit::make_string(p)) {}
  std::unique_ptr<lp::Response> answer;
  llmkit::String provider;
  mutable std::once_flag json_once;
  mutable llmkit::String json;
};
// A streamed piece, with NUL-terminated copies of its texts for C.
struct llmkit_chunk {
  explicit llmkit_chunk(const lp::Delta& d)
      : delta(d),
        text(llmkit::make_string(d.text)),
        id(llmkit::make_string(d.id)),
        name(llmkit::make_string(d.name)) {}
  const lp::Delta& delta;
  llmkit::String text, id, name;
};
struct llmkit_vectors : llmkit::client::Vectors {};

namespace {

llmkit_response* response_out(std::unique_ptr<lp::Response> r, std::string_view provider) {
  return r ? llmkit::create<llmkit_response>(std::move(r), provider) : nullptr;
}

llmkit::client::Client::ChunkFn chunk_fn(llmkit_stream_fn fn, void* user_data) {
  if (fn == nullptr) return {};
  return [fn, user_data](const lp::Delta& d) {
    const llmkit_chunk chunk(d);
    return fn(&chunk, user_data);
  };
}

const char* text_in(const char* text, const char* name) {
  const char* t = require_str(text, name);
  llmkit::utf8::require_valid(t, name);
  return t;
}

}  // namespace

extern "C" llmkit_status llmkit_client_new(const llmkit_options* options, llmkit_client** out) {
  return guard([&] {
    require(out, "out") = nullptr;
    *out = llmkit::create<llmkit_client>(require(options, "options"), &std::getenv);
  });
}

extern "C" void llmkit_client_free(llmkit_client* client) {
  llmkit::destroy(client);
}

extern "C" llmkit_status llmkit_client_breaker_stat(llmkit_client* client, const char* deployment,
                                                    const char* name, int64_t* value) {
  return guard([&] {
    auto& c = require(client, "client");
    const char* m = text_in(deployment, "deployment");
    const std::string_view n = require_str(name, "name");
    auto& out = require(value, "value");
    llmkit::route::Breaker* b = c.breaker(m);
    if (b == nullptr) {
      llmkit::fail(LLMKIT_NOT_FOUND, "no circuit breaker for " + llmkit::utf8::quote(m) +
                                         " (no call to it yet, or \"breaker\" is false)");
    }
    const auto s = b->stats(llmkit::now_ms());
    if (n == "state") {
      out = static_cast<int64_t>(s.state);
    } else if (n == "opened") {
      out = s.opened;
    } else if (n == "rejected") {
      out = s.rejected;
    } else if (n == "calls") {
      out = s.calls;
    } else if (n == "failures") {
      out = s.failures;
    } else if (n == "retry_in_ms") {
      out = s.retry_in_ms;
    } else {
      llmkit::fail(LLMKIT_NOT_FOUND, "no breaker figure named " + llmkit::utf8::quote(n));
    }
  });
}

extern "C" llmkit_status llmkit_client_flush(llmkit_client* client, int64_t timeout_ms) {
  return guard([&] {
    auto& c = require(client, "client");
    if (timeout_ms < 0) llmkit::fail(LLMKIT_INVALID_ARGUMENT, "timeout_ms is negative");
    llmkit::trace::Writer* w = c.trace_writer();
    if (w == nullptr || w->flush(timeout_ms)) return;
    const llmkit::trace::WriterStats s = w->stats();
    llmkit::fail(LLMKIT_TIMEOUT, std::to_string(s.queued) + " trace records not yet written" +
                                     (s.last_error.empty() ? std::string()
                                                           : "; the last write failed: " +
                                                                 std::string(s.last_error)));
  });
}

extern "C" llmkit_status llmkit_client_trace_stat(llmkit_client* client, const char* name,
                                                  int64_t* value) {
  return guard([&] {
    auto& c = require(client, "client");
    const std::string_view n = require_str(name, "name");
    auto& v = require(value, "value");
    llmkit::trace::WriterStats s;
    if (llmkit::trace::Writer* w = c.trace_writer()) s = w->stats();
    const std::pair<std::string_view, int64_t> known[] = {{"written", s.written},
                                                          {"dropped", s.dropped},
                                                          {"failed_writes", s.failed_writes},
                                                          {"queued", s.queued}};
    v = stat_named(known, n, "trace");
  });
}

/* ---- metrics, stats and health ---------------------------------------- */

struct llmkit_metrics_server : llmkit::metrics::Server {
  using Server::Server;
};

namespace {

namespace lm = llmkit::metrics;

// A text handed out until this thread's next llmkit call.
void text_out(llmkit::String text, const char** out, size_t* len) {
  thread_local llmkit::String t_text;
  t_text = std::move(text);
  *out = t_text.c_str();
  if (len != nullptr) *len = t_text.size();
}

// Call metrics read back from a traces table: a table may hold more models
// than one client would, so it allows more label sets.
constexpr std::size_t kTracesMaxSeries = 4096;

lm::View traces_view(const llmkit::Unique<lm::Registry>& calls) {
  lm::View v;
  v.live = false;
  v.calls = calls.get();
  return v;
}

const char* address_in(const char* address) {
  return address == nullptr ? "127.0.0.1" : text_in(address, "address");
}

}  // namespace

extern "C" llmkit_status llmkit_client_metrics(llmkit_client* client, const char** text,
                                               size_t* len) {
  return guard([&] {
    auto& c = require(client, "client");
    text_out(lm::prometheus_text(c.view()), &require(text, "text"), len);
  });
}

extern "C" llmkit_status llmkit_client_stats_json(llmkit_client* client, const char** text,
                                                  size_t* len) {
  return guard([&] {
    auto& c = require(client, "client");
    text_out(lm::stats_json(c.view()), &require(text, "text"), len);
  });
}

extern "C" llmkit_status llmkit_client_health(llmkit_client* client, llmkit_health* health,
                                              const char** reasons) {
  return guard([&] {
    auto& c = require(client, "client");
    auto& out = require(health, "health");
    const lm::HealthReport h = lm::health_of(c.view());
    out = static_cast<llmkit_health>(h.state);
    if (reasons == nullptr) return;
    llmkit::String lines;
    for (const std::string& r : h.reasons) {
      if (!lines.empty()) lines.push_back('\n');
      lines.append(r);
    }
    text_out(std::move(lines), reasons, nullptr);
  });
}

extern "C" llmkit_status llmkit_traces_metrics(const char* db, const char** text, size_t* len) {
  return guard([&] {
    const auto target = llmkit::trace::parse_target(text_in(db, "db"));
    auto& out = require(text, "text");
    const auto calls = lm::registry_from_traces(target, kTracesMaxSeries);
    text_out(lm::prometheus_text(traces_view(calls)), &out, len);
  });
}

extern "C" llmkit_status llmkit_client_serve_metrics(llmkit_client* client, const char* address,
                                                     int port, llmkit_metrics_server** out) {
  return guard([&] {
    require(out, "out") = nullptr;
    auto& c = require(client, "client");
    *out = llmkit::create<llmkit_metrics_server>(
        address_in(address), port,
        [&c](std::string_view path) { return lm::page_of(path, c.view()); });
  });
}

extern "C" llmkit_status llmkit_traces_serve_metrics(const char* db, const char* address, int port,
                                                     llmkit_metrics_server** out) {
  return guard([&] {
    require(out, "out") = nullptr;
    const auto target = llmkit::trace::parse_target(text_in(db, "db"));
    *out = llmkit::create<llmkit_metrics_server>(
        address_in(address), port, [target](std::string_view path) {
          const auto calls = lm::registry_from_traces(target, kTracesMaxSeries);
          return lm::page_of(path, traces_view(calls));
        });
  });
}

extern "C" int llmkit_metrics_server_port(const llmkit_metrics_server* server) {
  return server == nullptr ? 0 : server->port();
}

extern "C" void llmkit_metrics_server_free(llmkit_metrics_server* server) {
  llmkit::destroy(server);
}

extern "C" llmkit_status llmkit_client_set_cache(llmkit_client* client, llmkit_cache* cache) {
  return guard([&] { require(client, "client").set_cache(cache); });
}

extern "C" llmkit_status llmkit_client_set_ratelimiter(llmkit_client* client,
                                                       llmkit_ratelimiter* limiter) {
  return guard([&] { require(client, "client").set_limiter(limiter); });
}

namespace {

llmkit::budget::Budgets& budgets_of(llmkit_client& c) {
  llmkit::budget::Budgets* b = c.budgets();
  if (b == nullptr) llmkit::fail(LLMKIT_NOT_FOUND, "the client has no \"budgets\"");
  return *b;
}

}  // namespace

extern "C" llmkit_status llmkit_client_budget_spent(llmkit_client* client, const char* kind,
                                                    const char* key, const char* per,
                                                    double* value) {
  return guard([&] {
    auto& b = budgets_of(require(client, "client"));
    const std::string_view k = require_str(kind, "kind");
    const std::string_view p = require_str(per, "per");
    const char* name = text_in(key, "key");
    auto& out = require(value, "value");
    if (k != "application" && k != "caller") {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT,
                   "kind " + llmkit::utf8::quote(k) + R"( is not "application" or "caller")");
    }
    if (p != "day" && p != "month") {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT,
                   "per " + llmkit::utf8::quote(p) + R"( is not "day" or "month")");
    }
    out = b.spent(
        k == "application" ? llmkit::budget::Kind::kApplication : llmkit::budget::Kind::kCaller,
        name, p == "day" ? llmkit::budget::Period::kDay : llmkit::budget::Period::kMonth);
  });
}

extern "C" llmkit_status llmkit_client_budget_stat(llmkit_client* client, const char* name,
                                                   int64_t* value) {
  return guard([&] {
    const auto s = budgets_of(require(client, "client")).stats();
    const std::string_view n = require_str(name, "name");
    auto& out = require(value, "value");
    if (n == "refused") {
      out = s.refused;
    } else if (n == "store_errors") {
      out = s.store_errors;
    } else if (n == "unrecorded") {
      out = s.unrecorded;
    } else {
      llmkit::fail(LLMKIT_NOT_FOUND, "no budget figure named " + llmkit::utf8::quote(n));
    }
  });
}

extern "C" llmkit_status llmkit_request_new(llmkit_request** out) {
  return guard([&] { require(out, "out") = llmkit::create<llmkit_request>(); });
}

extern "C" void llmkit_request_free(llmkit_request* request) {
  llmkit::destroy(request);
}

extern "C" llmkit_status llmkit_request_set(llmkit_request* request, const char* key,
                                            const char* value) {
  return guard([&] { lp::set_param(require(request, "request"), require_str(key, "key"), value); });
}

extern "C" llmkit_status llmkit_request_add_stop(llmkit_request* request, const char* text) {
  return guard([&] {
    auto& r = require(request, "request");
    r.stop.push_back(llmkit::make_string(text_in(text, "text")));
  });
}

extern "C" llmkit_status llmkit_request_add_message(llmkit_request* request, const char* role,
                                                    const char* text) {
  return guard([&] {
    lp::add_message(require(request, "request"), require_str(role, "role"),
                    text == nullptr ? "" : text);
  });
}

extern "C" llmkit_status llmkit_request_add_text(llmkit_request* request, const char* text) {
  return guard([&] {
    auto& m = lp::last_message(require(request, "request"));
    m.parts.push_back(lp::Part{llmkit::make_string(text_in(text, "text")), std::nullopt});
  });
}

extern "C" llmkit_status llmkit_request_add_image(llmkit_request* request, const char* url) {
  return guard([&] {
    auto& m = lp::last_message(require(request, "request"));
    m.parts.push_back(lp::Part{{}, lp::image_from_url(require_str(url, "url"))});
  });
}

extern "C" llmkit_status llmkit_request_add_tool_call(llmkit_request* request, const char* id,
                                                      const char* name, const char* arguments) {
  return guard([&] {
    auto& m = lp::last_message(require(request, "request"));
    if (m.role != lp::Role::kAssistant) {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT, "a tool call belongs to an assistant message");
    }
    const char* args = require_str(arguments, "arguments");
    lp::require_json_object(args, "arguments");
    m.tool_calls.push_back(lp::ToolCall{llmkit::make_string(text_in(id, "id")),
                                        llmkit::make_string(text_in(name, "name")),
                                        llmkit::make_string(args),
                                        {}});
  });
}

extern "C" llmkit_status llmkit_request_set_tool_call_signature(llmkit_request* request,
                                                                const char* signature) {
  return guard([&] {
    auto& m = lp::last_message(require(request, "request"));
    if (m.tool_calls.empty()) {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT, "the last message has no tool call to sign");
    }
    m.tool_calls.back().signature = signature == nullptr
                                        ? llmkit::String()
                                        : llmkit::make_string(text_in(signature, "signature"));
  });
}

extern "C" llmkit_status llmkit_request_add_thinking(llmkit_request* request, const char* text,
                                                     const char* signature, int redacted) {
  return guard([&] {
    lp::Thinking t;
    if (text != nullptr) t.text = llmkit::make_string(text);
    if (signature != nullptr) t.signature = llmkit::make_string(signature);
    t.redacted = redacted != 0;
    lp::add_thinking(require(request, "request"), std::move(t));
  });
}

extern "C" llmkit_status llmkit_request_add_tool_result(llmkit_request* request,
                                                        const char* call_id, const char* content) {
  return guard([&] {
    auto& r = require(request, "request");
    lp::Message m;
    m.role = lp::Role::kTool;
    m.tool_call_id = llmkit::make_string(text_in(call_id, "call_id"));
    m.parts.push_back(lp::Part{llmkit::make_string(text_in(content, "content")), std::nullopt});
    r.messages.push_back(std::move(m));
  });
}

extern "C" llmkit_status llmkit_request_add_tool(llmkit_request* request, const char* name,
                                                 const char* description, const char* parameters) {
  return guard([&] {
    auto& r = require(request, "request");
    lp::Tool t;
    t.name = llmkit::make_string(text_in(name, "name"));
    if (description != nullptr)
      t.description = llmkit::make_string(text_in(description, "description"));
    if (parameters != nullptr) {
      lp::require_json_object(parameters, "parameters");
      t.parameters = llmkit::make_string(parameters);
    }
    r.tools.push_back(std::move(t));
  });
}

extern "C" llmkit_status llmkit_request_cache_breakpoint(llmkit_request* request) {
  return guard([&] {
    auto& r = require(request, "request");
    if (!r.messages.empty()) {
      r.messages.back().cache_breakpoint = true;
    } else if (!r.system.empty()) {
      r.system_cache_breakpoint = true;
    } else {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT, "nothing to mark: no system prompt or message yet");
    }
  });
}

extern "C" const char* llmkit_finish_reason_str(llmkit_finish_reason reason) {
  return lp::finish_name(reason);
}

extern "C" llmkit_chunk_kind llmkit_chunk_get_kind(const llmkit_chunk* chunk) {
  if (chunk == nullptr) return LLMKIT_CHUNK_TEXT;
  switch (chunk->delta.kind) {
    case lp::Delta::kReasoning:
      return LLMKIT_CHUNK_REASONING;
    case lp::Delta::kToolCall:
      return LLMKIT_CHUNK_TOOL_CALL;
    case lp::Delta::kText:
      break;
  }
  return LLMKIT_CHUNK_TEXT;
}

extern "C" const char* llmkit_chunk_text(const llmkit_chunk* chunk, size_t* len) {
  if (len != nullptr) *len = chunk == nullptr ? 0 : chunk->text.size();
  return chunk == nullptr ? "" : chunk->text.c_str();
}

extern "C" int llmkit_chunk_tool_index(const llmkit_chunk* chunk) {
  return chunk == nullptr || chunk->delta.kind != lp::Delta::kToolCall ? 0 : chunk->delta.index;
}

extern "C" const char* llmkit_chunk_tool_id(const llmkit_chunk* chunk) {
  return chunk == nullptr ? "" : chunk->id.c_str();
}

extern "C" const char* llmkit_chunk_tool_name(const llmkit_chunk* chunk) {
  return chunk == nullptr ? "" : chunk->name.c_str();
}

extern "C" llmkit_status llmkit_client_chat(llmkit_client* client, const llmkit_request* request,
                                            const llmkit_options* call_options,
                                            const llmkit_cancel* cancel, llmkit_stream_fn on_chunk,
                                            void* user_data, llmkit_response** response) {
  return guard([&] {
    require(response, "response") = nullptr;
    auto& c = require(client, "client");
    const auto& r = require(request, "request");
    auto result = c.chat(r, call_options, cancel, chunk_fn(on_chunk, user_data));
    *response = response_out(std::move(result.response), "");
    if (result.status != LLMKIT_OK) llmkit::fail(result.status, std::string(result.message));
  });
}

extern "C" llmkit_status llmkit_client_chat_async(llmkit_client* client,
                                                  const llmkit_request* request,
                                                  const llmkit_options* call_options,
                                                  const llmkit_cancel* cancel,
                                                  llmkit_stream_fn on_chunk, llmkit_done_fn on_done,
                                                  void* user_data) {
  return guard([&] {
    auto& c = require(client, "client");
    const auto& r = require(request, "request");
    require(on_done, "on_done");
    c.chat_async(r, call_options, cancel, chunk_fn(on_chunk, user_data),
                 [on_done, user_data](llmkit::client::Result result) {
                   llmkit_response* out = response_out(std::move(result.response), "");
                   if (result.status == LLMKIT_OK) {
                     clear_error();
                   } else {
                     set_error(result.status, result.message);
                   }
                   on_done(result.status, out, user_data);
                 });
  });
}

extern "C" llmkit_status llmkit_response_parse(const char* provider, const char* body, size_t len,
                                               int stream, llmkit_response** response) {
  return guard([&] {
    require(response, "response") = nullptr;
    const lp::Provider& p = lp::provider(require_str(provider, "provider"));
    const std::string_view text = bytes_in(body, len, "body");
    auto answer = std::make_unique<lp::Response>();
    if (stream != 0) {
      const auto decoder = p.decoder(*answer, {});
      decoder->feed(text);
      decoder->finish();
    } else {
      p.parse(text, *answer);
    }
    const llmkit_status status = answer->status;
    std::string message = std::string(p.name()) + ": " + std::string(answer->message);
    *response = response_out(std::move(answer), p.name());
    if (status != LLMKIT_OK) llmkit::fail(status, message);
  });
}

extern "C" void llmkit_response_free(llmkit_response* response) {
  llmkit::destroy(response);
}

extern "C" llmkit_status llmkit_response_get(const llmkit_response* response, const char* field,
                                             const char** value, size_t* len) {
  return guard([&] {
    const lp::Response& r = *require(response, "response").answer;
    const std::string_view f = require_str(field, "field");
    auto& out = require(value, "value");
    const llmkit::String* s = nullptr;
    if (f == "text")
      s = &r.text;
    else if (f == "reasoning")
      s = &r.reasoning;
    else if (f == "model")
      s = &r.model;
    else if (f == "id")
      s = &r.id;
    else if (f == "provider")
      s = &response->provider;
    else if (f == "deployment")
      s = &r.deployment;
    else if (f == "finish_reason_raw")
      s = &r.finish_raw;
    else if (f == "error.message")
      s = &r.message;
    else if (f == "error.detail")
      s = &r.detail;
    else if (f == "raw")
      s = &r.raw;
    if (s == nullptr) {
      llmkit::fail(LLMKIT_NOT_FOUND, "no response field " + llmkit::utf8::quote(f));
    }
    out = s->c_str();
    if (len != nullptr) *len = s->size();
  });
}

extern "C" llmkit_status llmkit_response_number(const llmkit_response* response, const char* field,
                                                double* value) {
  return guard([&] {
    const lp::Response& r = *require(response, "response").answer;
    const std::string_view f = require_str(field, "field");
    auto& out = require(value, "value");
    const auto ms = [](std::int64_t us) { return us < 0 ? -1.0 : static_cast<double>(us) / 1000; };
    if (f == "status")
      out = r.status;
    else if (f == "http_status")
      out = r.http_status;
    else if (f == "input_tokens")
      out = static_cast<double>(r.usage.input);
    else if (f == "output_tokens")
      out = static_cast<double>(r.usage.output);
    else if (f == "cached_input_tokens")
      out = static_cast<double>(r.usage.cached_input);
    else if (f == "cache_write_tokens")
      out = static_cast<double>(r.usage.cache_write);
    else if (f == "reasoning_tokens")
      out = static_cast<double>(r.usage.reasoning);
    else if (f == "retry_after_ms")
      out = static_cast<double>(r.retry_after_ms);
    else if (f == "latency_ms")
      out = ms(r.latency_us);
    else if (f == "first_token_ms")
      out = ms(r.first_token_us);
    else if (f == "max_gap_ms")
      out = ms(r.max_gap_us);
    else if (f == "chunks")
      out = static_cast<double>(r.chunks);
    else if (f == "tool_calls")
      out = static_cast<double>(r.tool_calls.size());
    else if (f == "thinking")
      out = static_cast<double>(r.thinking.size());
    else if (f == "cost_usd")
      out = r.cost_usd.value_or(-1.0);
    else if (f == "attempts")
      out = r.attempts;
    else if (f == "cached")
      out = r.cached ? 1 : 0;
    else if (f == "output_tokens_per_second") {
      const std::int64_t span = r.latency_us - std::max<std::int64_t>(r.first_token_us, 0);
      out = span > 0 ? static_cast<double>(r.usage.output) * 1e6 / static_cast<double>(span) : 0;
    } else {
      llmkit::fail(LLMKIT_NOT_FOUND, "no response number " + llmkit::utf8::quote(f));
    }
  });
}

extern "C" llmkit_finish_reason llmkit_response_finish_reason(const llmkit_response* response) {
  return response == nullptr ? LLMKIT_FINISH_NONE : response->answer->finish;
}

namespace {

// Item `index` of an answer's `items`: NOT_FOUND past the last.
template <class T>
const T& item(const lp::Vector<T>& items, size_t index, const char* what) {
  if (index >= items.size()) {
    llmkit::fail(LLMKIT_NOT_FOUND, std::string("no ") + what + " " + std::to_string(index) +
                                       " (the answer has " + std::to_string(items.size()) + ")");
  }
  return items[index];
}

}  // namespace

extern "C" llmkit_status llmkit_response_tool_call(const llmkit_response* response, size_t index,
                                                   const char** id, const char** name,
                                                   const char** arguments) {
  return guard([&] {
    const lp::Response& r = *require(response, "response").answer;
    auto out = std::tie(require(id, "id"), require(name, "name"), require(arguments, "arguments"));
    const lp::ToolCall& c = item(r.tool_calls, index, "tool call");
    out = std::tuple(c.id.c_str(), c.name.c_str(), c.arguments.c_str());
  });
}

extern "C" llmkit_status llmkit_response_tool_call_signature(const llmkit_response* response,
                                                             size_t index, const char** signature) {
  return guard([&] {
    const lp::Response& r = *require(response, "response").answer;
    auto& s = require(signature, "signature");
    s = item(r.tool_calls, index, "tool call").signature.c_str();
  });
}

extern "C" llmkit_status llmkit_response_thinking(const llmkit_response* response, size_t index,
                                                  const char** text, const char** signature,
                                                  int* redacted) {
  return guard([&] {
    const lp::Response& r = *require(response, "response").answer;
    auto out = std::tie(require(text, "text"), require(signature, "signature"),
                        require(redacted, "redacted"));
    const lp::Thinking& t = item(r.thinking, index, "thinking block");
    out = std::tuple(t.text.c_str(), t.signature.c_str(), t.redacted ? 1 : 0);
  });
}

extern "C" llmkit_status llmkit_request_add_response(llmkit_request* request,
                                                     const llmkit_response* response) {
  return guard([&] {
    lp::add_response(require(request, "request"), *require(response, "response").answer);
  });
}

extern "C" llmkit_status llmkit_response_json(const llmkit_response* response, const char** json,
                                              size_t* len) {
  return guard([&] {
    const auto& r = require(response, "response");
    auto& out = require(json, "json");
    std::call_once(r.json_once, [&] { lp::append_json(r.json, *r.answer); });
    out = r.json.c_str();
    if (len != nullptr) *len = r.json.size();
  });
}

extern "C" llmkit_status llmkit_client_embed(llmkit_client* client, const char* model,
                                             const char* const* texts, const size_t* lens, size_t n,
                                             const llmkit_options* call_options,
                                             const llmkit_cancel* cancel, llmkit_vectors** out) {
  return guard([&] {
    require(out, "out") = nullptr;
    auto& c = require(client, "client");
    if (n > 0) {
      require(texts, "texts");
      require(lens, "lens");
    }
    lp::Vector<llmkit::String> inputs;
    inputs.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      inputs.push_back(llmkit::make_string(
          bytes_in(texts[i], lens[i], ("texts[" + std::to_string(i) + "]").c_str())));
    }
    auto vectors = c.embed(model == nullptr ? "" : model, inputs, call_options, cancel);
    *out = llmkit::create<llmkit_vectors>(llmkit_vectors{std::move(vectors)});
  });
}

extern "C" llmkit_status llmkit_vectors_parse(const char* provider, const char* body, size_t len,
                                              llmkit_vectors** out) {
  return guard([&] {
    require(out, "out") = nullptr;
    const lp::Provider& p = lp::provider(require_str(provider, "provider"));
    const std::string_view text = bytes_in(body, len, "body");
    lp::Response error;
    try {
      p.parse(text, error);
    } catch (const llmkit::Error&) {
      // Not a chat answer nor an error: an embeddings answer, read below.
    }
    if (error.status != LLMKIT_OK) {
      llmkit::fail(error.status, std::string(p.name()) + ": " + std::string(error.message));
    }
    llmkit_vectors v;
    v.input_tokens = p.parse_embeddings(text, 0, v.values);
    *out = llmkit::create<llmkit_vectors>(std::move(v));
  });
}

extern "C" void llmkit_vectors_free(llmkit_vectors* vectors) {
  llmkit::destroy(vectors);
}

extern "C" size_t llmkit_vectors_count(const llmkit_vectors* vectors) {
  return vectors == nullptr ? 0 : vectors->values.size();
}

extern "C" llmkit_status llmkit_vectors_get(const llmkit_vectors* vectors, size_t index,
                                            const float** values, size_t* dims) {
  return guard([&] {
    const auto& v = require(vectors, "vectors");
    auto& out = require(values, "values");
    auto& d = require(dims, "dims");
    if (index >= v.values.size()) {
      llmkit::fail(LLMKIT_NOT_FOUND, "no vector " + std::to_string(index));
    }
    out = v.values[index].data();
    d = v.values[index].size();
  });
}

extern "C" int64_t llmkit_vectors_input_tokens(const llmkit_vectors* vectors) {
  return vectors == nullptr ? 0 : vectors->input_tokens;
}

/* ---- costs ------------------------------------------------------------- */

struct llmkit_costs {
  llmkit::trace::CostReport report;
  std::vector<std::string> times;  // each row's bucket as text, for llmkit_costs_get
  llmkit::String json;
};

extern "C" llmkit_status llmkit_costs_query(const char* db, const llmkit_options* query,
                                            llmkit_costs** out) {
  return guard([&] {
    require(out, "out") = nullptr;
    const auto target = llmkit::trace::parse_target(text_in(db, "db"));
    const llmkit::Options none;
    const auto q = llmkit::trace::parse_cost_query(query != nullptr ? *query : none,
                                                   llmkit::trace::wall_clock_us());
    llmkit_costs c{llmkit::trace::aggregate(target, q), {}, {}};
    if (q.per != llmkit::trace::Bucket::kNone) {
      for (const auto& row : c.report.rows)
        c.times.push_back(llmkit::trace::iso_time(row.bucket_us));
    }
    c.json = llmkit::trace::to_json(c.report);
    *out = llmkit::create<llmkit_costs>(std::move(c));
  });
}

extern "C" void llmkit_costs_free(llmkit_costs* costs) {
  llmkit::destroy(costs);
}

extern "C" size_t llmkit_costs_count(const llmkit_costs* costs) {
  return costs == nullptr ? 0 : costs->report.rows.size();
}

namespace {

const llmkit::trace::CostRow& costs_row(const llmkit_costs& c, size_t row) {
  if (row >= c.report.rows.size()) {
    llmkit::fail(LLMKIT_NOT_FOUND,
                 "no row " + std::to_string(row) + " of " + std::to_string(c.report.rows.size()));
  }
  return c.report.rows[row];
}

}  // namespace

extern "C" llmkit_status llmkit_costs_get(const llmkit_costs* costs, size_t row, const char* name,
                                          const char** value) {
  return guard([&] {
    const auto& c = require(costs, "costs");
    const std::string_view n = require_str(name, "name");
    auto& out = require(value, "value");
    const auto& r = costs_row(c, row);
    if (n == "time" && !c.times.empty()) {
      out = c.times[row].c_str();
      return;
    }
    const auto& by = c.report.query.by;
    for (size_t i = 0; i < by.size(); ++i) {
      if (llmkit::trace::name_of(by[i]) == n) {
        out = r.keys[i].c_str();
        return;
      }
    }
    llmkit::fail(LLMKIT_NOT_FOUND,
                 "the rows have no " + llmkit::utf8::quote(n) + ": the query did not group by it");
  });
}

extern "C" llmkit_status llmkit_costs_number(const llmkit_costs* costs, size_t row,
                                             const char* name, double* value) {
  return guard([&] {
    const auto& c = require(costs, "costs");
    const std::string_view n = require_str(name, "name");
    auto& out = require(value, "value");
    const auto& f = row == LLMKIT_COSTS_TOTAL ? c.report.total : costs_row(c, row).figures;
    for (const auto& [field, v] : llmkit::trace::named(f)) {
      if (field == n) {
        out = v;
        return;
      }
    }
    llmkit::fail(LLMKIT_NOT_FOUND, "no costs figure named " + llmkit::utf8::quote(n));
  });
}

extern "C" llmkit_status llmkit_costs_json(const llmkit_costs* costs, const char** json,
                                           size_t* len) {
  return guard([&] {
    const auto& c = require(costs, "costs");
    require(json, "json") = c.json.c_str();
    if (len != nullptr) *len = c.json.size();
  });
}

/* ---- hooks ------------------------------------------------------------- */

namespace lh = llmkit::hooks;

struct llmkit_hooks {
  std::shared_ptr<lh::Registry> registry;
};

// The event a C hook gets: the core's, plus what its getters hand out,
// kept until the hook returns.
struct llmkit_hook_event {
  explicit llmkit_hook_event(lh::Event& e) : event(e) {}
  lh::Event& event;
  // A list, not a deque: empty, it allocates nothing, and most hooks ask
  // for no text that needs a copy.
  mutable std::forward_list<llmkit::String, llmkit::Allocator<llmkit::String>> texts;
  // The answer as an llmkit_response, made on first ask: a copy, since the
  // handle owns its answer; hooks that never ask pay nothing.
  mutable std::optional<llmkit_response> response;
};

namespace {

lh::Kind kind_of(llmkit_hook_kind kind) {
  switch (kind) {
    case LLMKIT_HOOK_BEFORE:
      return lh::Kind::kBefore;
    case LLMKIT_HOOK_AFTER:
      return lh::Kind::kAfter;
    case LLMKIT_HOOK_ERROR:
      return lh::Kind::kError;
    case LLMKIT_HOOK_FINALLY:
      return lh::Kind::kFinally;
  }
  llmkit::fail(LLMKIT_INVALID_ARGUMENT, "unknown hook kind " + std::to_string(kind));
}

// The event's request, for a synchronous before hook to change.
lp::ChatRequest& editable(llmkit_hook_event* event) {
  auto& e = require(event, "event").event;
  lp::ChatRequest* request = e.edit();
  if (request == nullptr) {
    llmkit::fail(LLMKIT_INVALID_ARGUMENT, e.read_only ? "an async hook cannot change the call"
                                                      : "only a before hook can change the call");
  }
  return *request;
}

const char* keep(const llmkit_hook_event& ev, llmkit::String text) {
  return ev.texts.emplace_front(std::move(text)).c_str();
}

}  // namespace

extern "C" llmkit_status llmkit_hooks_new(const llmkit_options* options, llmkit_hooks** out) {
  return guard([&] {
    require(out, "out") = nullptr;
    lh::Settings settings;
    if (options != nullptr) {
      static constexpr std::string_view kKnown[] = {"queue_size", "queue_full", "slow_ms"};
      options->require_known(kKnown, "the hooks");
      settings.queue_capacity =
          static_cast<std::size_t>(options->get_int("queue_size", 10'000, 1, 1 << 24));
      const std::string_view full = options->get_string("queue_full", "drop");
      if (full != "drop" && full != "block") {
        llmkit::fail(LLMKIT_INVALID_ARGUMENT,
                     R"("queue_full" is drop or block, not ")" + std::string(full) + "\"");
      }
      settings.block_when_full = full == "block";
      settings.slow_us = options->get_int("slow_ms", 100, 0, std::int64_t{1} << 31) * 1000;
    }
    auto registry = std::allocate_shared<lh::Registry>(llmkit::Allocator<lh::Registry>(), settings);
    *out = llmkit::create<llmkit_hooks>(llmkit_hooks{std::move(registry)});
  });
}

extern "C" void llmkit_hooks_free(llmkit_hooks* hooks) {
  llmkit::destroy(hooks);
}

extern "C" llmkit_status llmkit_hooks_add(llmkit_hooks* hooks, llmkit_hook_kind kind,
                                          const char* scope, const char* rule, unsigned flags,
                                          llmkit_hook_fn fn, void* user_data, uint64_t* id) {
  return guard([&] {
    auto& h = require(hooks, "hooks");
    require(fn, "fn");
    if ((flags & ~LLMKIT_HOOK_ASYNC) != 0) {
      llmkit::fail(LLMKIT_INVALID_ARGUMENT, "unknown hook flags " + std::to_string(flags));
    }
    const std::uint64_t added = h.registry->add(
        kind_of(kind), scope == nullptr ? "" : text_in(scope, "scope"),
        rule == nullptr ? "" : text_in(rule, "rule"),
        [fn, user_data](lh::Event& e) {
          llmkit_hook_event ev(e);
          return fn(&ev, user_data);
        },
        (flags & LLMKIT_HOOK_ASYNC) != 0);
    if (id != nullptr) *id = added;
  });
}

extern "C" llmkit_status llmkit_hooks_remove(llmkit_hooks* hooks, uint64_t id) {
  return guard([&] { require(hooks, "hooks").registry->remove(id); });
}

extern "C" llmkit_status llmkit_hooks_add_predicate(llmkit_hooks* hooks, const char* name,
                                                    llmkit_predicate_fn fn, void* user_data) {
  return guard([&] {
    auto& h = require(hooks, "hooks");
    require(fn, "fn");
    h.registry->add_predicate(require_str(name, "name"), [fn, user_data](const lh::CallFacts& f) {
      llmkit_hook_event ev(const_cast<lh::Event&>(*f.event));  // read-only: const to the predicate
      return fn(&ev, user_data);
    });
  });
}

extern "C" llmkit_status llmkit_hooks_flush(llmkit_hooks* hooks) {
  return guard([&] { require(hooks, "hooks").registry->flush(); });
}

extern "C" llmkit_status llmkit_hooks_stat(const llmkit_hooks* hooks, uint64_t id, const char* name,
                                           int64_t* value) {
  return guard([&] {
    const lh::Stats s = require(hooks, "hooks").registry->stats(id);
    const std::string_view n = require_str(name, "name");
    auto& out = require(value, "value");
    const auto count = [](std::uint64_t v) { return static_cast<int64_t>(v); };
    if (n == "calls") {
      out = count(s.calls);
    } else if (n == "skipped") {
      out = count(s.skipped);
    } else if (n == "errors") {
      out = count(s.errors);
    } else if (n == "rule_failures") {
      out = count(s.rule_failures);
    } else if (n == "dropped") {
      out = count(s.dropped);
    } else if (n == "slow") {
      out = count(s.slow);
    } else if (n == "total_us") {
      out = s.total_us;
    } else if (n == "max_us") {
      out = s.max_us;
    } else {
      llmkit::fail(LLMKIT_NOT_FOUND, "no hook counter named \"" + std::string(n) + "\"");
    }
  });
}

extern "C" llmkit_status llmkit_hooks_last_error(const llmkit_hooks* hooks, uint64_t id,
                                                 const char** message) {
  thread_local llmkit::String t_message;
  return guard([&] {
    auto& out = require(message, "message");
    t_message = require(hooks, "hooks").registry->stats(id).last_error;
    out = t_message.c_str();
  });
}

extern "C" llmkit_status llmkit_client_set_hooks(llmkit_client* client, llmkit_hooks* hooks) {
  return guard(
      [&] { require(client, "client").set_hooks(hooks == nullptr ? nullptr : hooks->registry); });
}

extern "C" llmkit_hook_kind llmkit_hook_event_kind(const llmkit_hook_event* event) {
  if (event == nullptr) return LLMKIT_HOOK_BEFORE;
  switch (event->event.kind) {
    case lh::Kind::kAfter:
      return LLMKIT_HOOK_AFTER;
    case lh::Kind::kError:
      return LLMKIT_HOOK_ERROR;
    case lh::Kind::kFinally:
      return LLMKIT_HOOK_FINALLY;
    case lh::Kind::kBefore:
      break;
  }
  return LLMKIT_HOOK_BEFORE;
}

extern "C" llmkit_status llmkit_hook_event_get(const llmkit_hook_event* event, const char* field,
                                               const char** value, size_t* len) {
  return guard([&] {
    const auto& ev = require(event, "event");
    const lh::Event& e = ev.event;
    const std::string_view f = require_str(field, "field");
    auto& out = require(value, "value");
    std::string_view text;
    const char* found = nullptr;
    if (f == "provider") {
      found = e.provider.c_str();
      text = e.provider;
    } else if (f == "model") {
      text = e.model();
      // The request's own string when the model is its: no copy to keep.
      if (e.request != nullptr && text.data() == e.request->model.data()) {
        found = e.request->model.c_str();
      }
    } else if (f == "message") {
      found = e.message.c_str();
      text = e.message;
    } else if (f == "tags") {
      llmkit::String joined;
      for (const llmkit::String& t : e.tags) {
        if (!joined.empty()) joined += ',';
        joined += t;
      }
      found = keep(ev, std::move(joined));
      text = ev.texts.front();
    } else if (f.starts_with("meta.")) {
      const auto it = std::find_if(e.metadata.begin(), e.metadata.end(),
                                   [&](const auto& kv) { return kv.first == f.substr(5); });
      if (it == e.metadata.end()) {
        llmkit::fail(LLMKIT_NOT_FOUND,
                     "the call has no metadata \"" + std::string(f.substr(5)) + "\"");
      }
      found = it->second.c_str();
      text = it->second;
    } else if (f == "request") {
      if (e.request == nullptr) llmkit::fail(LLMKIT_NOT_FOUND, "the event has no request");
      found = keep(
          ev,
          lp::provider(e.provider).chat_request(lp::Endpoint{}, *e.request, e.model(), false).body);
      text = ev.texts.front();
    } else {
      llmkit::fail(LLMKIT_NOT_FOUND, "no event field named \"" + std::string(f) + "\"");
    }
    out = found != nullptr ? found : keep(ev, llmkit::make_string(text));
    if (len != nullptr) *len = text.size();
  });
}

extern "C" llmkit_status llmkit_hook_event_number(const llmkit_hook_event* event, const char* field,
                                                  double* value) {
  return guard([&] {
    const lh::Event& e = require(event, "event").event;
    const std::string_view f = require_str(field, "field");
    auto& out = require(value, "value");
    if (f == "status") {
      out = e.status;
    } else if (f == "elapsed_ms") {
      out = static_cast<double>(e.elapsed_us) / 1000.0;
    } else if (f == "cost_usd") {
      out = e.cost_usd.value_or(-1.0);
    } else if (f == "cached") {
      out = e.response != nullptr && e.response->cached ? 1 : 0;
    } else {
      llmkit::fail(LLMKIT_NOT_FOUND, "no event number named \"" + std::string(f) + "\"");
    }
  });
}

extern "C" const llmkit_response* llmkit_hook_event_response(const llmkit_hook_event* event) {
  if (event == nullptr || event->event.response == nullptr) return nullptr;
  try {
    if (!event->response) {
      event->response.emplace(std::make_unique<lp::Response>(*event->event.response),
                              event->event.provider);
    }
    return &*event->response;
  } catch (...) {  // out of memory: as if there were none
    return nullptr;
  }
}

extern "C" llmkit_status llmkit_hook_event_set(llmkit_hook_event* event, const char* key,
                                               const char* value) {
  return guard([&] { lp::set_param(editable(event), require_str(key, "key"), value); });
}

extern "C" llmkit_status llmkit_hook_event_set_meta(llmkit_hook_event* event, const char* key,
                                                    const char* value) {
  return guard([&] {
    editable(event);
    lh::Event& e = event->event;
    const std::string_view k = text_in(key, "key");
    const char* v = text_in(value, "value");
    for (auto& [name, old] : e.metadata) {
      if (name == k) {
        old = llmkit::make_string(v);
        return;
      }
    }
    e.metadata.emplace_back(llmkit::make_string(k), llmkit::make_string(v));
  });
}

extern "C" llmkit_status llmkit_hook_event_answer(llmkit_hook_event* event, const char* text) {
  return guard([&] {
    editable(event);
    auto answer = std::make_unique<lp::Response>();
    answer->text = llmkit::make_string(text_in(text, "text"));
    answer->finish = LLMKIT_FINISH_STOP;
    answer->finish_raw = llmkit::make_string("hook");
    event->event.answer = std::move(answer);
  });
}

extern "C" llmkit_status llmkit_hook_event_reject(llmkit_hook_event* event, llmkit_status status,
                                                  const char* message) {
  return guard([&] {
    editable(event);
    if (status == LLMKIT_OK) llmkit::fail(LLMKIT_INVALID_ARGUMENT, "a rejection needs a status");
    event->event.reject_message =
        llmkit::make_string(message == nullptr ? "" : text_in(message, "message"));
    event->event.rejected = status;
  });
}

extern "C" llmkit_status llmkit_hook_event_fail(llmkit_hook_event* event, llmkit_status status,
                                                const char* message) {
  if (event != nullptr && message != nullptr) {
    try {
      event->event.failure = llmkit::make_string(message);
    } catch (...) {  // NOLINT(bugprone-empty-catch): no memory: the status alone
    }
  }
  return status;
}
