// The C boundary: the only file that implements include/llmkit.h.
//
// Every exported function turns handles into core objects, runs the core
// inside guard(), and turns any exception into an llmkit_status plus the
// thread's last-error message. No exception ever leaves this file.
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache.h"
#include "cache/embeddings.h"
#include "cache/replay.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"
#include "core/utf8.h"
#include "llmkit.h"
#include "options/options.h"
#include "ratelimit/limiter.h"
#include "tokenize/catalog.h"
#include "tokenize/count.h"

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
  if (call_options == nullptr) return lc::Use::kUse;
  call_options->require_known(std::initializer_list<std::string_view>{"cache"}, "a cached call");
  const std::string_view v = call_options->get_string("cache", "use");
  if (v == "use") return lc::Use::kUse;
  if (v == "bypass") return lc::Use::kBypass;
  if (v == "refresh") return lc::Use::kRefresh;
  llmkit::fail(LLMKIT_INVALID_ARGUMENT,
               "option 'cache' must be use, bypass or refresh, not " + llmkit::utf8::quote(v));
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
    for (const auto& [name_of, stat] : known) {
      if (n == name_of) {
        v = stat;
        return;
      }
    }
    llmkit::fail(LLMKIT_NOT_FOUND, "no cache statistic " + llmkit::utf8::quote(n) +
                                       " (known: hits, misses, evictions, expirations, entries, "
                                       "bytes, waits, backend_errors)");
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
