/*
 * llmkit.h — the public C interface of llmkit.
 *
 * llmkit sits between an application and LLM providers: provider calls,
 * streaming, hooks, a response cache, rate limits, token counting, retries,
 * circuit breakers, fallbacks and cost tracking, in one C++ core behind this
 * stable C ABI.
 *
 * Conventions used by every function in this header:
 *
 *  - Functions that can fail return an llmkit_status. LLMKIT_OK is 0. On any
 *    other value, llmkit_last_error() returns a message for the calling thread.
 *  - Objects are opaque handles created by exactly one llmkit_<type>_new() and
 *    destroyed by exactly one llmkit_<type>_free(). Passing NULL to a _free
 *    function does nothing. Passing a NULL handle or NULL out-pointer anywhere
 *    else returns LLMKIT_INVALID_ARGUMENT.
 *  - Configuration goes through key/value setters on opaque objects, so no
 *    public struct ever changes size between versions.
 *  - Callbacks take `void *user_data` last and return an llmkit_status.
 *  - Strings are UTF-8. Each function says who owns a returned string and
 *    until when it stays valid.
 *  - Each function says whether it is safe to call from several threads.
 */
#ifndef LLMKIT_H
#define LLMKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* LLMKIT_API marks the exported symbols; everything else in the library is
 * hidden. Define LLMKIT_STATIC when linking libllmkit.a on Windows. */
#if defined(_WIN32) && !defined(LLMKIT_STATIC)
#  if defined(LLMKIT_BUILDING)
#    define LLMKIT_API __declspec(dllexport)
#  else
#    define LLMKIT_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define LLMKIT_API __attribute__((visibility("default")))
#else
#  define LLMKIT_API
#endif

/* ===================================================================== */
/* Version                                                                */
/* ===================================================================== */

#define LLMKIT_VERSION_MAJOR 0
#define LLMKIT_VERSION_MINOR 1
#define LLMKIT_VERSION_PATCH 0
#define LLMKIT_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, for compile-time comparisons. */
#define LLMKIT_VERSION_NUMBER \
  (LLMKIT_VERSION_MAJOR * 10000 + LLMKIT_VERSION_MINOR * 100 + LLMKIT_VERSION_PATCH)

/* The version of the library actually loaded, as "MAJOR.MINOR.PATCH".
 * It may differ from LLMKIT_VERSION_STRING when an application runs
 * against a newer shared library than the header it was built with.
 * Ownership: a static string; never free it. Thread safety: any thread. */
LLMKIT_API const char* llmkit_version(void);

/* The loaded library's version as LLMKIT_VERSION_NUMBER computes it.
 * Thread safety: any thread. */
LLMKIT_API int llmkit_version_number(void);

/* ===================================================================== */
/* Errors                                                                 */
/* ===================================================================== */

/* Every failing call returns one of these. Values are stable across
 * versions; new ones are only ever appended. */
typedef enum llmkit_status {
  LLMKIT_OK = 0,
  LLMKIT_INVALID_ARGUMENT = 1, /* bad input: NULL handle, invalid UTF-8, bad option */
  LLMKIT_NOT_FOUND = 2,        /* no such key, model, encoding or entry */
  LLMKIT_RATE_LIMITED = 3,     /* a local limit or the provider said 429 */
  LLMKIT_TIMEOUT = 4,          /* a deadline passed */
  LLMKIT_NETWORK = 5,          /* connect, DNS, TLS or a truncated stream */
  LLMKIT_PROVIDER_ERROR = 6,   /* the provider answered with an error */
  LLMKIT_AUTH = 7,             /* missing or rejected credentials */
  LLMKIT_CANCELLED = 8,        /* the caller cancelled the operation */
  LLMKIT_OUT_OF_MEMORY = 9,    /* an allocation failed */
  LLMKIT_INTERNAL = 10,        /* a bug in llmkit: please report it */
  LLMKIT_UNSUPPORTED = 11,     /* valid request the provider or build cannot do */
  LLMKIT_BUDGET_EXCEEDED = 12, /* a spend limit would be passed */
  LLMKIT_QUEUE_FULL = 13,      /* a bounded queue refused the item */
  LLMKIT_UNAVAILABLE = 14,     /* a backend is unreachable, or a circuit is open */
  LLMKIT_OVERLOADED = 15       /* the provider is overloaded (HTTP 503, 529): retry later */
} llmkit_status;

/* A short constant name for a status, e.g. "NOT_FOUND"; "UNKNOWN" for a
 * value this version does not know.
 * Ownership: a static string; never free it. Thread safety: any thread. */
LLMKIT_API const char* llmkit_status_str(llmkit_status status);

/* The message of the last failing llmkit call made by this thread, or ""
 * when the last call succeeded. Every llmkit call that returns an
 * llmkit_status sets it (clears it on success).
 * Ownership: owned by the library, valid until this thread's next llmkit
 * call; copy it to keep it. Thread safety: per thread, by design. */
LLMKIT_API const char* llmkit_last_error(void);

/* ===================================================================== */
/* Options                                                                */
/* ===================================================================== */

/* A set of key/value settings handed to constructors such as the client,
 * the cache or the rate limiter. Keys are lower-case ASCII words joined by
 * '.', '_' or '-' (e.g. "cache.max_bytes"); values are UTF-8 strings that
 * the consumer parses ("1024", "true", "30s"). The consumer reports an
 * unknown key or a bad value with LLMKIT_INVALID_ARGUMENT, naming both. */
typedef struct llmkit_options llmkit_options;

/* Creates an empty option set in *out.
 * Ownership: the caller owns *out; free it with llmkit_options_free().
 * Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_options_new(llmkit_options** out);

/* Creates an independent copy of `options` in *out.
 * Ownership: the caller owns *out; free it with llmkit_options_free().
 * Thread safety: `options` may be read concurrently, not while modified. */
LLMKIT_API llmkit_status llmkit_options_copy(const llmkit_options* options, llmkit_options** out);

/* Destroys an option set. NULL does nothing. Strings returned by
 * llmkit_options_get() for it become invalid.
 * Thread safety: no other thread may use `options` during or after. */
LLMKIT_API void llmkit_options_free(llmkit_options* options);

/* Sets `key` to `value` (NUL-terminated, valid UTF-8), replacing any
 * previous value. LLMKIT_INVALID_ARGUMENT for a malformed key or invalid
 * UTF-8 in the value.
 * Ownership: both strings are copied. Thread safety: one writer at a time;
 * no concurrent readers. */
LLMKIT_API llmkit_status llmkit_options_set(llmkit_options* options, const char* key,
                                            const char* value);

/* Removes `key`. LLMKIT_NOT_FOUND when it was not set.
 * Thread safety: as llmkit_options_set(). */
LLMKIT_API llmkit_status llmkit_options_unset(llmkit_options* options, const char* key);

/* Stores the value of `key` in *value. LLMKIT_NOT_FOUND when it is not set.
 * Ownership: *value is owned by `options` and valid until `key` is set or
 * unset again or `options` is freed.
 * Thread safety: concurrent readers are fine; no concurrent writer. */
LLMKIT_API llmkit_status llmkit_options_get(const llmkit_options* options, const char* key,
                                            const char** value);

/* Stores the number of keys set in *count.
 * Thread safety: as llmkit_options_get(). */
LLMKIT_API llmkit_status llmkit_options_count(const llmkit_options* options, size_t* count);

/* ===================================================================== */
/* Token counting                                                         */
/* ===================================================================== */

/* An OpenAI BPE encoding: "cl100k_base", "o200k_base", "p50k_base" or
 * "r50k_base". Ids are exactly those of OpenAI's tiktoken. The rank data is
 * embedded in the library and loaded once per process on first use; a
 * tokenizer handle is a cheap reference to it.
 * Thread safety: every function below may be called on the same tokenizer
 * from any number of threads at once. */
typedef struct llmkit_tokenizer llmkit_tokenizer;

/* What to do with text that spells a special token such as
 * "<|endoftext|>". */
typedef enum llmkit_special_mode {
  /* As tiktoken's encode(): such text is an LLMKIT_INVALID_ARGUMENT error
   * naming the token and its byte offset. The safe default for user text. */
  LLMKIT_SPECIAL_DISALLOW = 0,
  /* As encode(allowed_special="all"): such text becomes the special token. */
  LLMKIT_SPECIAL_ALLOW = 1,
  /* As encode_ordinary(): such text is encoded as ordinary text. */
  LLMKIT_SPECIAL_AS_TEXT = 2
} llmkit_special_mode;

/* Creates a tokenizer for the encoding named `encoding` in *out.
 * LLMKIT_NOT_FOUND for an unknown name (the message lists the known ones).
 * Ownership: the caller owns *out; free it with llmkit_tokenizer_free().
 * Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_tokenizer_new(const char* encoding, llmkit_tokenizer** out);

/* Destroys a tokenizer handle. NULL does nothing. The shared rank data
 * stays loaded for other handles and later use. */
LLMKIT_API void llmkit_tokenizer_free(llmkit_tokenizer* tokenizer);

/* The encoding's name, e.g. "o200k_base"; NULL when `tokenizer` is NULL.
 * Ownership: a static string; never free it. */
LLMKIT_API const char* llmkit_tokenizer_name(const llmkit_tokenizer* tokenizer);

/* Stores in *n_vocab one more than the largest token id, special tokens
 * included (tiktoken's n_vocab). */
LLMKIT_API llmkit_status llmkit_tokenizer_n_vocab(const llmkit_tokenizer* tokenizer,
                                                  size_t* n_vocab);

/* Stores in *encoding the name of the encoding OpenAI's `model` uses, from
 * exact names and prefixes ("gpt-4o-2024-08-06", "o3-mini", "ft:gpt-4o:..").
 * LLMKIT_NOT_FOUND for a model without a public tokenizer.
 * Ownership: a static string; never free it. */
LLMKIT_API llmkit_status llmkit_encoding_for_model(const char* model, const char** encoding);

/* Encodes `len` bytes of UTF-8 `text` into token ids. Every token covers at
 * least one byte, so `capacity` = `len` always suffices. *n_ids receives the
 * number of ids. With `ids` NULL only the count is computed. When
 * `capacity` is too small, nothing useful is in `ids`, *n_ids is the
 * capacity needed and the status is LLMKIT_INVALID_ARGUMENT.
 * Invalid UTF-8 is LLMKIT_INVALID_ARGUMENT with the byte offset. */
LLMKIT_API llmkit_status llmkit_tokenizer_encode(const llmkit_tokenizer* tokenizer,
                                                 const char* text, size_t len,
                                                 llmkit_special_mode mode, uint32_t* ids,
                                                 size_t capacity, size_t* n_ids);

/* Counts the tokens of `text` without storing ids: the fast path for
 * budgets and limits. Same rules as llmkit_tokenizer_encode(). */
LLMKIT_API llmkit_status llmkit_tokenizer_count(const llmkit_tokenizer* tokenizer, const char* text,
                                                size_t len, llmkit_special_mode mode,
                                                size_t* count);

/* Counts `n` texts (texts[i] of lens[i] bytes) into counts[i], spread over
 * the library's worker threads (one per core). On error the status and
 * message are those of the first failing text by index, and its index is
 * in the message; counts of the other texts are still filled in. */
LLMKIT_API llmkit_status llmkit_tokenizer_count_batch(const llmkit_tokenizer* tokenizer,
                                                      const char* const* texts, const size_t* lens,
                                                      size_t n, llmkit_special_mode mode,
                                                      size_t* counts);

/* Decodes `n` ids into the bytes they stand for, written to `buf`
 * (`capacity` bytes; not NUL-terminated). *len receives the byte length.
 * With `buf` NULL only *len is computed. When `capacity` is too small,
 * *len is the capacity needed and the status is LLMKIT_INVALID_ARGUMENT.
 * An unknown id is LLMKIT_INVALID_ARGUMENT naming it. The bytes may end in
 * the middle of a UTF-8 sequence when the ids do. */
LLMKIT_API llmkit_status llmkit_tokenizer_decode(const llmkit_tokenizer* tokenizer,
                                                 const uint32_t* ids, size_t n, char* buf,
                                                 size_t capacity, size_t* len);

/* Exact token count of `text` for an OpenAI `model`, with its encoding.
 * Special-token spellings count as ordinary text, as the API treats them.
 * LLMKIT_NOT_FOUND for models without a public tokenizer: use
 * llmkit_estimate_tokens() for those. */
LLMKIT_API llmkit_status llmkit_count_tokens(const char* model, const char* text, size_t len,
                                             size_t* count);

/* Prompt tokens of a Chat Completions request for an OpenAI `model`, by
 * OpenAI's published per-message rules: `messages_json` is the request's
 * "messages" array (roles, string or text-part contents, names, assistant
 * tool_calls); `tools_json` (may be NULL) is its "tools" array. Includes
 * the reply priming. Image and audio parts are LLMKIT_UNSUPPORTED: their
 * cost depends on the media, not the text. Malformed JSON is
 * LLMKIT_INVALID_ARGUMENT naming the problem. See docs/tokens.md for the
 * rules and their accuracy. */
LLMKIT_API llmkit_status llmkit_count_tokens_chat(const char* model, const char* messages_json,
                                                  size_t messages_len, const char* tools_json,
                                                  size_t tools_len, size_t* count);

/* An ESTIMATE of the tokens of `text` for models whose tokenizer is not
 * public (Anthropic "claude-*", Google "gemini-*" and "gemma-*", with or
 * without a "provider/" prefix): the o200k_base count, which can differ
 * noticeably from the provider's own count; use the provider's counting
 * endpoint where exact numbers matter. For OpenAI models it is the exact
 * count and *exact is set to 1; otherwise *exact is 0. `exact` may be NULL.
 * LLMKIT_NOT_FOUND for a model of no known family. */
LLMKIT_API llmkit_status llmkit_estimate_tokens(const char* model, const char* text, size_t len,
                                                size_t* count, int* exact);

/* ===================================================================== */
/* Cancellation                                                           */
/* ===================================================================== */

/* A signal that cancels the operations it is passed to: any thread may
 * trigger it, and operations waiting on it end with LLMKIT_CANCELLED at
 * once. A triggered signal stays triggered.
 * Thread safety: any thread, concurrently. */
typedef struct llmkit_cancel llmkit_cancel;

/* Creates an untriggered signal. Ownership: free with llmkit_cancel_free(),
 * after every operation using it has returned. */
LLMKIT_API llmkit_status llmkit_cancel_new(llmkit_cancel** out);

/* Destroys a signal. NULL does nothing. */
LLMKIT_API void llmkit_cancel_free(llmkit_cancel* cancel);

/* Triggers the signal. */
LLMKIT_API llmkit_status llmkit_cancel_trigger(llmkit_cancel* cancel);

/* ===================================================================== */
/* Rate limiting                                                          */
/* ===================================================================== */

/* Per-key limits on requests per window, tokens per window and requests in
 * flight (GCRA with integer nanoseconds: no refill steps, no drift). Keys
 * are any bytes (user ids, team names); each key has its own limits.
 * Options, all integers unless said otherwise:
 *   "requests"        requests per window (0 or unset: no request limit)
 *   "tokens"          tokens per window (0 or unset: no token limit)
 *   "window"          the window in seconds, default 60
 *   "burst_requests"  requests that may be taken at once, default "requests"
 *   "burst_tokens"    tokens that may be taken at once, default "tokens"
 *   "concurrency"     requests in flight (0 or unset: no limit; at most
 *                     INT32_MAX)
 *   "backend"         where the state lives (a string):
 *     "memory"  this process (the default);
 *     "shm"     shared memory: one limit for every process on the host with
 *               the same "shm.name" (letters, digits, '.', '_', '-'; the
 *               segment is /dev/shm/llmkit-<name>) and the same limits;
 *               "shm.capacity" keys at most (default 65536). A process that
 *               dies holding slots or a lock blocks nobody;
 *     "redis"   one limit for every host on the same Redis and
 *               "redis.prefix" (default "llmkit:rl:"): "redis.url"
 *               (default "redis://127.0.0.1:6379"; also
 *               "redis://user:password@host:port/db" and "unix:///path"),
 *               "redis.timeout_ms" (default 250), "redis.lease" (seconds a
 *               concurrency slot of a vanished host lasts, default 30), and
 *               "redis.on_error": "closed" (the default: calls fail with
 *               LLMKIT_UNAVAILABLE while Redis is unreachable), "open"
 *               (admit everything) or "local" (this process's own limiter
 *               decides). Bursts must refill within 52 days.
 * In any window the admitted count never exceeds limit + burst.
 * See docs/ratelimit.md.
 * Thread safety: every function may be called from any thread at once. */
typedef struct llmkit_ratelimiter llmkit_ratelimiter;

/* Creates a rate limiter from `options` (copied; may be freed after).
 * LLMKIT_INVALID_ARGUMENT names an unknown option or bad value.
 * Ownership: free *out with llmkit_ratelimiter_free(). */
LLMKIT_API llmkit_status llmkit_ratelimiter_new(const llmkit_options* options,
                                                llmkit_ratelimiter** out);

/* Destroys a rate limiter. NULL does nothing. */
LLMKIT_API void llmkit_ratelimiter_free(llmkit_ratelimiter* limiter);

/* Asks to admit one request of `tokens` tokens (at most INT64_MAX / 10^9,
 * about 9.2 billion) for `key` now, without waiting. When admitted
 * (*allowed = 1) it is charged to every limit, and takes a concurrency slot
 * when "concurrency" is set: give it back with llmkit_ratelimiter_release().
 * When refused (*allowed = 0) nothing is charged and *retry_after_ms says
 * how long until the same request fits: -1 if it never can (more tokens
 * than the burst), 0 if only the concurrency limit refused it.
 * *remaining_requests and *remaining_tokens give what is still admissible
 * now (INT64_MAX for a limit that is off). Every out-pointer but `allowed`
 * may be NULL. A shared backend that cannot decide (Redis unreachable,
 * "redis.on_error" closed) is LLMKIT_UNAVAILABLE; a full "shm" table is
 * LLMKIT_OUT_OF_MEMORY. */
LLMKIT_API llmkit_status llmkit_ratelimiter_check(llmkit_ratelimiter* limiter, const char* key,
                                                  size_t key_len, uint64_t tokens, int* allowed,
                                                  int64_t* retry_after_ms,
                                                  int64_t* remaining_requests,
                                                  int64_t* remaining_tokens);

/* As llmkit_ratelimiter_check(), but waits until the request is admitted
 * (LLMKIT_OK), `timeout_ms` (0 to INT64_MAX / 4000000, about 73 years)
 * would pass first (LLMKIT_TIMEOUT, returned as soon as that is known),
 * `cancel` (may be NULL) is triggered (LLMKIT_CANCELLED), or the request
 * can never fit (LLMKIT_RATE_LIMITED). Waiting on a concurrency slot polls,
 * backing off from 0.1 to 10 ms, until the deadline. */
LLMKIT_API llmkit_status llmkit_ratelimiter_acquire(llmkit_ratelimiter* limiter, const char* key,
                                                    size_t key_len, uint64_t tokens,
                                                    int64_t timeout_ms,
                                                    const llmkit_cancel* cancel);

/* Gives back the concurrency slot of an admitted request.
 * LLMKIT_NOT_FOUND when `key` holds no slot (with a shared backend: no slot
 * taken through this limiter). Freeing a limiter gives back its slots. */
LLMKIT_API llmkit_status llmkit_ratelimiter_release(llmkit_ratelimiter* limiter, const char* key,
                                                    size_t key_len);

/* Settles a request admitted with an estimate of `reserved` tokens that
 * used `actual`: refunds the difference or charges the excess. */
LLMKIT_API llmkit_status llmkit_ratelimiter_reconcile(llmkit_ratelimiter* limiter, const char* key,
                                                      size_t key_len, uint64_t reserved,
                                                      uint64_t actual);

/* Stores a statistic in *value: "allowed" and "limited" (checks through
 * this limiter so far), "keys" (keys with state; for "redis", those of the
 * "local" fallback), "bytes" (memory held for them; for "shm", the
 * segment's size), "backend_errors" (calls Redis failed, each handled by
 * "redis.on_error"). LLMKIT_NOT_FOUND for another name. */
LLMKIT_API llmkit_status llmkit_ratelimiter_stat(const llmkit_ratelimiter* limiter,
                                                 const char* name, uint64_t* value);

/* ===================================================================== */
/* Response cache                                                         */
/* ===================================================================== */

/* A cache of provider answers keyed by the request that produced them.
 * The key is a 128-bit hash (XXH3) of the scope, the provider and a
 * canonical form of the request: JSON object key order, number spelling
 * (1, 1.0, 1e0) and string escapes do not change it; every field that can
 * change the answer does; fields that cannot are left out (see
 * docs/cache.md for the list). Keys print as 32 lower-case hex digits.
 *
 * Options, all integers unless said otherwise:
 *   "max_entries"   entries held at most, default 100000
 *   "max_bytes"     bytes held at most (values, keys and bookkeeping),
 *                   default 67108864 (64 MiB); a value larger than
 *                   max_bytes / "shards" is not stored in memory (and the
 *                   entry it would replace is dropped)
 *   "shards"        independent parts, each with its own lock, default 16
 *   "ttl"           seconds an entry lives unless put says otherwise,
 *                   default 3600; 0: entries never expire (only evicted)
 *   "temperature"   (a string) what to do with requests sampled at a
 *                   temperature other than 0 (or with none given, which
 *                   providers treat as 1): "cache" (the default) or "skip"
 *   "backend"       (a string) "memory" (the default) or "redis": entries
 *                   live in Redis, zstd-compressed, with Redis's own TTL,
 *                   behind an in-memory tier sized by the options above.
 *                   "redis.url" (default "redis://127.0.0.1:6379"),
 *                   "redis.prefix" (default "llmkit:cache:"; one per
 *                   application), "redis.timeout_ms" (default 100),
 *                   "local.ttl" (seconds the in-memory tier keeps an entry
 *                   read from Redis, default 60: how long an invalidation
 *                   by another process may take to be seen here).
 *                   When Redis fails, get is a miss and put stores locally
 *                   only; both count a "backend_errors" and succeed.
 * The in-memory tier evicts with S3-FIFO (docs/cache.md says why).
 * Thread safety: every function may be called from any thread at once. */
typedef struct llmkit_cache llmkit_cache;

/* A value read from the cache: immutable, and valid until freed even when
 * the entry is evicted, replaced or invalidated meanwhile. */
typedef struct llmkit_cache_value llmkit_cache_value;

/* Bytes for a key: 32 hex digits and a NUL. */
#define LLMKIT_CACHE_KEY_SIZE 33

/* What a call should do with the cache. */
typedef enum llmkit_cache_use {
  LLMKIT_CACHE_BYPASS = 0, /* neither look up nor store */
  LLMKIT_CACHE_USE = 1,    /* look up; on a miss, store the answer */
  LLMKIT_CACHE_REFRESH = 2 /* skip the lookup; store the fresh answer */
} llmkit_cache_use;

/* Creates a cache from `options` (copied; may be freed after).
 * LLMKIT_INVALID_ARGUMENT names an unknown option or bad value.
 * Ownership: free *out with llmkit_cache_free(). */
LLMKIT_API llmkit_status llmkit_cache_new(const llmkit_options* options, llmkit_cache** out);

/* Destroys a cache and its in-memory entries (Redis keeps its own). NULL
 * does nothing. Values still held stay valid until freed. No call may be
 * running on `cache` during or after. */
LLMKIT_API void llmkit_cache_free(llmkit_cache* cache);

/* Computes the key of a request in `key` and what to do with it in *use.
 * `scope` (may be NULL or "") names the tenant: keys of different scopes
 * never meet. `provider` is the provider's name ("openai", "anthropic",
 * "gemini", "ollama" or any other). `request_json` is the request body as
 * sent to the provider, a JSON object. `call_options` (may be NULL) holds
 * per-call settings: "cache" = "use" (the default), "bypass" or "refresh".
 * *use is LLMKIT_CACHE_BYPASS when the call opts out or the "temperature"
 * policy skips the request; `key` is filled in either way.
 * Malformed JSON or invalid UTF-8 is LLMKIT_INVALID_ARGUMENT. */
LLMKIT_API llmkit_status llmkit_cache_key(const llmkit_cache* cache, const char* scope,
                                          const char* provider, const char* request_json,
                                          size_t request_len, const llmkit_options* call_options,
                                          char key[LLMKIT_CACHE_KEY_SIZE], llmkit_cache_use* use);

/* Looks `key` up. On a hit *value is the value; on a miss (or an expired
 * entry, or an unreachable Redis) *value is NULL and the status is still
 * LLMKIT_OK. A key that is not 32 hex digits is LLMKIT_INVALID_ARGUMENT.
 * Ownership: free *value with llmkit_cache_value_free(). */
LLMKIT_API llmkit_status llmkit_cache_get(llmkit_cache* cache, const char* key,
                                          llmkit_cache_value** value);

/* As llmkit_cache_get(), with stampede protection: on a miss, the first
 * caller for `key` gets *fill = 1 and must call llmkit_cache_put() (or
 * llmkit_cache_abandon() when its upstream call fails); callers that miss
 * while it works wait up to `wait_ms` for its value. They then return with
 * the value, or with *value NULL and *fill = 0 when the wait ran out or the
 * filler abandoned, to call upstream on their own (the first of them after
 * an abandon gets *fill = 1). A caller that would wait less than the
 * filler has already taken presumes it lost and gets *fill = 1 as well;
 * the first put wakes every waiter. `cancel` (may be NULL) ends a wait
 * with LLMKIT_CANCELLED (within 2 ms). Waiting is per process. */
LLMKIT_API llmkit_status llmkit_cache_lookup(llmkit_cache* cache, const char* key, int64_t wait_ms,
                                             const llmkit_cancel* cancel,
                                             llmkit_cache_value** value, int* fill);

/* Gives up filling `key` after llmkit_cache_lookup() set *fill: one waiter
 * becomes the filler. Nothing happens when no one waits. */
LLMKIT_API llmkit_status llmkit_cache_abandon(llmkit_cache* cache, const char* key);

/* Stores `len` bytes of `value` (copied) under `key` for `ttl_ms`
 * milliseconds (0: the "ttl" option), replacing any entry, and wakes the
 * callers waiting on `key` in llmkit_cache_lookup(). */
LLMKIT_API llmkit_status llmkit_cache_put(llmkit_cache* cache, const char* key, const char* value,
                                          size_t len, int64_t ttl_ms);

/* Removes the entry of `key`, if any. With "redis" it is removed from Redis
 * too (other processes' in-memory tiers drop it within "local.ttl"); an
 * unreachable Redis is LLMKIT_UNAVAILABLE, since the entry may live on. */
LLMKIT_API llmkit_status llmkit_cache_invalidate(llmkit_cache* cache, const char* key);

/* Removes every entry: in memory, and with "redis" every key under
 * "redis.prefix" (LLMKIT_UNAVAILABLE when Redis cannot be reached). */
LLMKIT_API llmkit_status llmkit_cache_clear(llmkit_cache* cache);

/* Stores a statistic in *value: "hits", "misses", "evictions" (entries
 * pushed out by the bounds), "expirations" (entries dropped past their
 * TTL), "entries" and "bytes" (held in memory now), "waits" (lookups that
 * waited on another caller's fill), "backend_errors" (failed Redis calls,
 * each turned into a miss). LLMKIT_NOT_FOUND for another name. */
LLMKIT_API llmkit_status llmkit_cache_stat(const llmkit_cache* cache, const char* name,
                                           uint64_t* value);

/* The bytes of a cached value in *data and their number in *len.
 * Ownership: *data belongs to `value` and lives as long as it. */
LLMKIT_API llmkit_status llmkit_cache_value_data(const llmkit_cache_value* value, const char** data,
                                                 size_t* len);

/* Releases a value. NULL does nothing. */
LLMKIT_API void llmkit_cache_value_free(llmkit_cache_value* value);

/* ---- embeddings, cached per input ---------------------------------------- */

/* One embeddings request (OpenAI's shape: "model", "input" as a string or
 * an array of strings or of token arrays, and parameters such as
 * "dimensions" and "encoding_format"), split into the inputs the cache
 * already holds and those it must ask for. Each input has its own key:
 * scope, provider, model, parameters and the input itself.
 * Thread safety: one thread at a time per batch. */
typedef struct llmkit_embeddings llmkit_embeddings;

/* Looks up every input of `request_json` (copied) and creates the batch
 * in *out.
 * Ownership: free *out with llmkit_embeddings_free(). */
LLMKIT_API llmkit_status llmkit_embeddings_new(llmkit_cache* cache, const char* scope,
                                               const char* provider, const char* request_json,
                                               size_t request_len, llmkit_embeddings** out);

/* Destroys a batch. NULL does nothing. */
LLMKIT_API void llmkit_embeddings_free(llmkit_embeddings* batch);

/* The request to send upstream: the original with "input" holding only the
 * misses, in their original order. *n_misses is their number; when it is
 * 0, *request is NULL and nothing need be sent.
 * Ownership: *request belongs to `batch`, valid until it is freed. */
LLMKIT_API llmkit_status llmkit_embeddings_upstream(const llmkit_embeddings* batch,
                                                    size_t* n_misses, const char** request,
                                                    size_t* request_len);

/* Takes the provider's answer to the upstream request (NULL with 0 when
 * there were no misses), stores each new embedding under its input's key
 * for `ttl_ms` (0: the "ttl" option) and builds in *response the answer to
 * the original request: every input's embedding at its original "index",
 * "usage" as the provider counted it for the misses. An answer with the
 * wrong number of embeddings is LLMKIT_PROVIDER_ERROR.
 * Ownership: *response belongs to `batch`, valid until it is freed. */
LLMKIT_API llmkit_status llmkit_embeddings_complete(llmkit_embeddings* batch,
                                                    const char* upstream_response,
                                                    size_t upstream_len, int64_t ttl_ms,
                                                    const char** response, size_t* response_len);

/* ---- replaying a cached completion as a stream --------------------------- */

/* The chunks a streaming caller would have received for a Chat Completions
 * answer (OpenAI's "chat.completion" JSON): a role chunk, the content in
 * pieces of about `piece_bytes` bytes (never splitting a UTF-8 character),
 * tool calls with their arguments in pieces, the finish reason, and a
 * usage chunk when the answer has "usage". Each chunk is the JSON of one
 * "chat.completion.chunk", the payload of one server-sent event.
 * Thread safety: one thread at a time per replay. */
typedef struct llmkit_replay llmkit_replay;

/* Parses `completion_json` (copied) and creates the replay in *out.
 * `piece_bytes` 0 means 64. Malformed JSON, or JSON that is not a chat
 * completion, is LLMKIT_INVALID_ARGUMENT.
 * Ownership: free *out with llmkit_replay_free(). */
LLMKIT_API llmkit_status llmkit_replay_new(const char* completion_json, size_t len,
                                           size_t piece_bytes, llmkit_replay** out);

/* Destroys a replay. NULL does nothing. */
LLMKIT_API void llmkit_replay_free(llmkit_replay* replay);

/* Stores the next chunk in *chunk and *len; *chunk is NULL after the last.
 * Ownership: *chunk belongs to `replay`, valid until the next call. */
LLMKIT_API llmkit_status llmkit_replay_next(llmkit_replay* replay, const char** chunk, size_t* len);

/* ===================================================================== */
/* Provider calls                                                         */
/* ===================================================================== */

/* A client calls one provider (OpenAI Chat Completions, any
 * OpenAI-compatible server, Anthropic Messages, Gemini or Ollama), or
 * routes among several deployments of them ("deployments"). Every
 * client runs one HTTP event loop with a shared connection pool
 * (keep-alive, HTTP/2 where offered); calls from any number of threads
 * share it. The client's background thread drives the loop, except that a
 * blocking call finding it idle drives it itself (no thread hand-off).
 * docs/providers.md describes how each provider's answer becomes the one
 * response below.
 * Options (durations in milliseconds):
 *   "provider"        openai, openai-compatible, anthropic, gemini, ollama
 *                     (required unless "deployments" is set)
 *   "base_url"        default: the provider's public API (openai
 *                     https://api.openai.com/v1, anthropic https://api.anthropic.com,
 *                     gemini https://generativelanguage.googleapis.com/v1beta,
 *                     ollama http://localhost:11434); required for openai-compatible
 *   "api_key"         default: OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY
 *                     then GOOGLE_API_KEY from the environment; openai-compatible
 *                     and ollama read none (a key meant for OpenAI never goes elsewhere)
 *   "model"           the model of requests that name none
 *   "anthropic.version"  the anthropic-version header, default 2023-06-01
 *   "timeout.connect" default 10000; "timeout.first_byte", "timeout.total",
 *   "timeout.idle"    (between two stream chunks): default 0, none
 *   "max_connections_per_host", "max_connections"   default 0, no limit; with
 *                     a limit, blocking calls go through the client's thread
 *   "http2"           default true; "tls.verify" default true; "tls.ca_file"
 *   "proxy"           default: http_proxy, https_proxy/HTTPS_PROXY, all_proxy/ALL_PROXY
 *                     as libcurl reads them; no_proxy/NO_PROXY always; read once, here
 *   "embeddings.concurrency"  batches in flight at once, default 4
 *   "header.NAME"     sends the header NAME with this value on every call
 *                     (e.g. "header.http-referer" for OpenRouter)
 *   "retry.attempts"  tries per call in all, default 3 (1: no retry); a call
 *                     failing RATE_LIMITED, OVERLOADED, NETWORK, TIMEOUT or with
 *                     a 5xx is tried again after "retry.base_ms" (default 500)
 *                     doubling per retry up to "retry.max_ms" (default 30000),
 *                     full jitter, never sooner than the provider's Retry-After;
 *                     a stream that delivered a piece is never tried again
 *   "breaker"         default true: a circuit breaker per deployment (docs/providers.md):
 *                     when "breaker.failure_rate" (default 0.5) of at least
 *                     "breaker.min_calls" (20) calls in "breaker.window_ms"
 *                     (30000) fail as a retry would cure, calls fail at once
 *                     with UNAVAILABLE for "breaker.open_ms" (30000), then
 *                     "breaker.probes" (1) trial calls decide
 *   "scopes"          the hook scopes the client is in ("evaluation,production";
 *                     llmkit_hooks_add)
 *   "prices"          a price file (a path, or its JSON text) over the built-in
 *                     table, for "cost_usd" (docs/cost.md)
 *   "deployments"     a JSON array (or the path of a file holding one) of
 *                     deployments, each a provider, base URL, key and model
 *                     under a "name", serving the requests that ask for its
 *                     "group" (default: its model), with a "weight", a
 *                     traffic "split" (percent, sticky per the call option
 *                     "route.key"), "rpm" and "tpm" limits (docs/routing.md);
 *                     with a "provider" too, the client's own provider serves
 *                     the models no group claims
 *   "route.strategy"  among a group's deployments: "weighted" (the default,
 *                     at random by weight), "least_inflight" or "latency"
 *                     (lowest moving average)
 *   "fallbacks"       a JSON array (or a file) of rules {"from": group or "*",
 *                     "to": [groups, in order], "on": [error classes]}: a
 *                     call whose group failed with a class in "on" goes on
 *                     to the next group of "to" (docs/routing.md)
 *   "cache.scope"     the tenant of the client's cache keys (llmkit_client_set_cache),
 *                     default ""
 *   "application"     the application the client's calls belong to, default "": what
 *                     application budgets and the traces table name it by
 *   "budgets"         a JSON array (or a file) of spend limits checked before each
 *                     call: [{"application": "shop", "usd": 50, "per": "day"},
 *                     {"caller": "*", "usd": 2, "per": "month"}] ("*": each
 *                     caller key on its own, the call option "caller"); a call
 *                     whose budget is spent this UTC day or month fails with
 *                     LLMKIT_BUDGET_EXCEEDED without reaching the provider
 *                     (llmkit_client_budget_spent, docs/costs.md)
 *   "budget.store"    where spend is kept: "memory" (the default, this client),
 *                     a redis:// URL or a postgresql:// URL (shared by every
 *                     client and process using it)
 *   "budget.on_unavailable"  when the store cannot be reached: "allow" (the
 *                     default: the call goes, counted) or "deny" (it fails
 *                     with LLMKIT_UNAVAILABLE)
 *   "budget.prefix"   of the store's keys, default "llmkit:budget:";
 *                     "budget.timeout_ms" Redis's, default 250
 *   "trace"           where a record of every call goes (docs/traces.md): a SQLite
 *                     file's path (or "sqlite:PATH"), "jsonl:PATH" (JSON Lines) or
 *                     a postgresql:// URL; unset: no records. A background thread
 *                     writes them; calls never wait on the database
 *   "trace.queue"     records waiting to be written at most, default 10000
 *   "trace.on_full"   a full queue: "drop" the record (the default; counted,
 *                     llmkit_client_trace_stat) or "block" the call until there is room
 *   "trace.content"   default false: true also stores each call's messages and answer
 *   "trace.close_timeout_ms"  how long llmkit_client_free() keeps trying a failing
 *                     database for the records left, default 10000
 *   "metrics"         default true: count every call for llmkit_client_metrics()
 *   "metrics.max_series"  label sets counted apart at most, default 256
 * The key is sent only in the provider's auth header: it never appears in
 * messages, errors, responses or trace records. */
typedef struct llmkit_client llmkit_client;

/* Creates a client in *out. LLMKIT_INVALID_ARGUMENT for an unknown option
 * or provider, LLMKIT_AUTH when the provider needs a key and none is set.
 * Ownership: free *out with llmkit_client_free(). Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_client_new(const llmkit_options* options, llmkit_client** out);

/* Stores a figure of the circuit breaker of a deployment in *value:
 * `deployment` is its name, or a model of the client's own provider. "state" (0
 * closed: calls go; 1 open: they fail at once with UNAVAILABLE; 2
 * half-open: probes go), "opened" (times it opened), "rejected" (calls
 * failed at once), "calls" and "failures" (in the window now),
 * "retry_in_ms" (open: until the next probe). NOT_FOUND before the first
 * call to it, when breakers are off, or for another name.
 * Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_client_breaker_stat(llmkit_client* client, const char* deployment,
                                                    const char* name, int64_t* value);

/* Puts `cache` in front of the client's calls that start from now on
 * (NULL: none; calls already running keep the one they began with). After
 * the before hooks, a call is keyed by its request as the caller made it,
 * its requested model and the client's "cache.scope" (not by the provider
 * or deployment that answers), and the call option "cache" ("use",
 * "bypass", "refresh") and the cache's "temperature" option decide as for
 * llmkit_cache_key(). A hit ends the call there: no limit is spent, no
 * provider called; the answer has "cached" 1, "cost_usd" 0 and "attempts"
 * 1, a streaming call gets it as pieces first, and the after and finally
 * hooks run. A miss waits up to its "deadline_ms" left, at most 30 s, for
 * another call filling the same key (an async call never waits), and
 * stores its answer when it succeeded with text or tool calls. An async
 * hit calls `on_done` on the calling thread. docs/cache.md.
 * Ownership: the client does not own `cache`, which must outlive every
 * client using it: free those clients first. Several clients may share one.
 * Thread safety: any thread, also while calls run. */
LLMKIT_API llmkit_status llmkit_client_set_cache(llmkit_client* client, llmkit_cache* cache);

/* Limits the client's calls that start from now on per caller with
 * `limiter` (NULL: none): the key is the call option "caller", "" for
 * calls without one. After the cache (a hit spends nothing), each call is
 * one request, a concurrency slot and its estimated tokens (the input,
 * counted with the model's tokenizer when llmkit knows one, by size
 * otherwise, plus the request's "max_tokens"). A refusal fails the call
 * with LLMKIT_RATE_LIMITED, naming the caller and when to retry, without
 * calling the provider; the error and finally hooks run. The call option
 * "ratelimit.wait_ms" (default 0: refuse at once) waits that long for room
 * instead, on the calling thread even for an async call, which the call's
 * `cancel` ends. When the call ends its tokens become the provider's usage
 * (input + output); a failed call without usage keeps only its input
 * estimate; its slot is released. An async call refused returns
 * RATE_LIMITED from llmkit_client_chat_async() without calling `on_done`.
 * docs/ratelimit.md.
 * Ownership: as for llmkit_client_set_cache(): `limiter` must outlive
 * every client using it. Thread safety: any thread, also while calls run. */
LLMKIT_API llmkit_status llmkit_client_set_ratelimiter(llmkit_client* client,
                                                       llmkit_ratelimiter* limiter);

/* Stores in *value the dollars the budget of `kind` ("application" or "caller")
 * for `key` has spent this UTC `per` ("day" or "month"), as the client's
 * "budget.store" holds it: every call's cost since the period began,
 * added when each call ended. LLMKIT_NOT_FOUND when no rule of "budgets"
 * covers it; LLMKIT_UNAVAILABLE when a shared store cannot be reached.
 * Thread safety: any thread, also while calls run. */
LLMKIT_API llmkit_status llmkit_client_budget_spent(llmkit_client* client, const char* kind,
                                                    const char* key, const char* per,
                                                    double* value);

/* Stores a count of the client's budgets in *value: "refused" (calls
 * failed with LLMKIT_BUDGET_EXCEEDED), "store_errors" (checks and adds the
 * store failed), "unrecorded" (costs the store failed to add: spend it
 * does not know). LLMKIT_NOT_FOUND without "budgets" or for another name.
 * Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_client_budget_stat(llmkit_client* client, const char* name,
                                                   int64_t* value);

/* Waits until the trace records of every call that ended before this
 * call are written (docs/traces.md), or dropped as "dropped" counts them,
 * at most `timeout_ms` (>= 0; 0 only checks). LLMKIT_OK at once when the client has no "trace";
 * LLMKIT_TIMEOUT when some are still queued, with the database's last
 * error in llmkit_last_error() when it is failing (the records stay
 * queued and are written when it is back). Thread safety: any thread,
 * also while calls run. */
LLMKIT_API llmkit_status llmkit_client_flush(llmkit_client* client, int64_t timeout_ms);

/* Stores a figure of the client's trace writer in *value: "written"
 * (records in the database), "dropped" (records lost to a full queue with
 * "trace.on_full" "drop", or in a batch the database refused for another
 * reason than being out of reach), "failed_writes" (batches that failed;
 * while the database is out of reach each is tried again, 100 ms later
 * doubling to 2 s), "queued" (records not yet written). All 0 when the
 * client has no "trace". NOT_FOUND for another name.
 * Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_client_trace_stat(llmkit_client* client, const char* name,
                                                  int64_t* value);

/* ---- metrics, stats and health (docs/metrics.md) ------------------------ */

/* Stores the client's metrics in *text (*len bytes; len may be NULL), in
 * Prometheus text exposition format 0.0.4: its calls by operation, model
 * asked for, provider, deployment and status (llmkit_requests_total;
 * duration, time-to-first-token and token histograms; tokens, cost, cache
 * lookups, rate-limit refusals, retries, fallbacks), then its breakers,
 * the attached hooks, trace writer, cache, rate limiter and budgets as
 * they are now, and its health. Names follow OpenTelemetry's GenAI
 * conventions where one fits (llmkit_gen_ai_client_operation_duration_seconds,
 * llmkit_gen_ai_client_token_usage); docs/metrics.md lists every family.
 * Counting a call costs well under a microsecond, without a lock; the
 * client option "metrics" "false" turns it off. "metrics.max_series"
 * (default 256) bounds the label sets: calls of further ones are counted
 * under the labels "_overflow".
 * Ownership: owned by the library, valid until this thread's next llmkit
 * call; copy it to keep it. Thread safety: any thread, also while calls run. */
LLMKIT_API llmkit_status llmkit_client_metrics(llmkit_client* client, const char** text,
                                               size_t* len);

/* Stores a snapshot of the client as one JSON object in *text (*len bytes;
 * len may be NULL): "health" (as llmkit_client_health()), "calls" (totals:
 * requests, errors, cache hits and misses, cache_hit_rate, rate-limit
 * refusals), "series" (each label set's figures), "breakers", "hooks",
 * "trace", "cache", "ratelimiter", "budget" (the parts the client has), and
 * "recommendations": [{"code", "message"}], what the figures suggest
 * changing (a low cache hit rate, a slow synchronous hook, a flapping
 * breaker, dropped trace records or hook events; docs/metrics.md).
 * Ownership and thread safety: as llmkit_client_metrics(). */
LLMKIT_API llmkit_status llmkit_client_stats_json(llmkit_client* client, const char** text,
                                                  size_t* len);

/* A client's health, worst last. */
typedef enum llmkit_health {
  LLMKIT_HEALTH_OK = 0,
  LLMKIT_HEALTH_DEGRADED = 1, /* a breaker is open or probing, or trace writes fail */
  LLMKIT_HEALTH_UNHEALTHY = 2 /* every breaker the client has is open */
} llmkit_health;

/* Stores the client's health in *health and, when `reasons` is not NULL,
 * why in *reasons: one sentence per line, "" when ok.
 * Ownership: *reasons as llmkit_client_metrics()'s text.
 * Thread safety: any thread, also while calls run. */
LLMKIT_API llmkit_status llmkit_client_health(llmkit_client* client, llmkit_health* health,
                                              const char** reasons);

/* Stores in *text (*len bytes; len may be NULL) the call metrics of every
 * call in the traces table of `db` (a SQLite file's path or "sqlite:PATH",
 * or a "postgresql://" URL; docs/traces.md), as a client would count them:
 * what `llmkit serve-metrics` serves. Breakers, hooks, cache misses and
 * rate-limit refusals are not in the table, so not here. It reads the
 * whole table each time. Fails as llmkit_costs_query() does.
 * Ownership: as llmkit_client_metrics()'s text. Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_traces_metrics(const char* db, const char** text, size_t* len);

/* An HTTP server for scrapers, on a thread of its own: GET /metrics
 * (Prometheus text), /health (JSON; HTTP 503 when unhealthy), /stats
 * (llmkit_client_stats_json()'s JSON). One connection at a time, each
 * closed after its answer. */
typedef struct llmkit_metrics_server llmkit_metrics_server;

/* Serves `client`'s metrics on `address` (an IPv4 or IPv6 literal; NULL:
 * "127.0.0.1", this host only) and `port` (0: a free one, see
 * llmkit_metrics_server_port()). INVALID_ARGUMENT for a bad address or
 * port; UNAVAILABLE when the port cannot be had.
 * Ownership: free *out with llmkit_metrics_server_free(), before the
 * client. Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_client_serve_metrics(llmkit_client* client, const char* address,
                                                     int port, llmkit_metrics_server** out);

/* Serves llmkit_traces_metrics() of `db`, read again for each scrape
 * (/stats and /health too, from the table alone). As
 * llmkit_client_serve_metrics() otherwise; a database that fails a
 * scrape answers it 503 with the reason. */
LLMKIT_API llmkit_status llmkit_traces_serve_metrics(const char* db, const char* address, int port,
                                                     llmkit_metrics_server** out);

/* The port a server listens on; 0 for NULL. */
LLMKIT_API int llmkit_metrics_server_port(const llmkit_metrics_server* server);

/* Stops a server, after the answer it is writing. NULL does nothing. */
LLMKIT_API void llmkit_metrics_server_free(llmkit_metrics_server* server);

/* Destroys a client: calls still running end with LLMKIT_CANCELLED (async
 * ones call their done callback first), then every queued trace record is
 * written (for up to "trace.close_timeout_ms" while the database fails).
 * NULL does nothing. No call may start on it during or after. */
LLMKIT_API void llmkit_client_free(llmkit_client* client);

/* A chat request, built once and sent any number of times.
 * Thread safety: one writer at a time; once built, any number of threads
 * may send it concurrently. */
typedef struct llmkit_request llmkit_request;

/* Creates an empty request. Ownership: free with llmkit_request_free(). */
LLMKIT_API llmkit_status llmkit_request_new(llmkit_request** out);

/* Destroys a request. NULL does nothing. Calls already started keep their
 * own copy. */
LLMKIT_API void llmkit_request_free(llmkit_request* request);

/* Sets a parameter (value copied; NULL unsets it):
 *   "model", "system" (the system prompt),
 *   "temperature", "top_p" (numbers), "max_tokens", "seed" (integers),
 *   "thinking_budget"  tokens of reasoning (Anthropic thinking, Gemini
 *                      thinkingConfig, Ollama think); OpenAI: UNSUPPORTED
 *                      at send time (use "extra" {"reasoning_effort": ...})
 *   "tool_choice"      auto, none, required, or a tool's name
 *   "response_format"  text, json, or a JSON schema (an object)
 *   "extra"            a JSON object merged into the provider's body,
 *                      member by member, for provider-specific parameters
 * LLMKIT_INVALID_ARGUMENT for another key or a malformed value. */
LLMKIT_API llmkit_status llmkit_request_set(llmkit_request* request, const char* key,
                                            const char* value);

/* Adds a stop sequence. */
LLMKIT_API llmkit_status llmkit_request_add_stop(llmkit_request* request, const char* text);

/* Appends a message: `role` "user" or "assistant"; `text` (may be NULL)
 * becomes its first part. */
LLMKIT_API llmkit_status llmkit_request_add_message(llmkit_request* request, const char* role,
                                                    const char* text);

/* Appends a text part to the last message (INVALID_ARGUMENT when none). */
LLMKIT_API llmkit_status llmkit_request_add_text(llmkit_request* request, const char* text);

/* Appends an image to the last message: an http(s) URL, or a data: URL
 * ("data:image/png;base64,..."). Gemini and Ollama take only data: URLs
 * (UNSUPPORTED at send time otherwise). */
LLMKIT_API llmkit_status llmkit_request_add_image(llmkit_request* request, const char* url);

/* Appends a tool call the model made to the last message, which must be
 * the assistant's: `arguments` is its JSON text (an object). */
LLMKIT_API llmkit_status llmkit_request_add_tool_call(llmkit_request* request, const char* id,
                                                      const char* name, const char* arguments);

/* Sets the signature of the last tool call of the last message, as
 * llmkit_response_tool_call_signature() gave it: Gemini's thoughtSignature,
 * sent back on that call's functionCall part (Gemini 3 refuses a call
 * without it). NULL or "" removes it. For rebuilding a stored conversation:
 * llmkit_request_add_response() copies signatures itself.
 * LLMKIT_INVALID_ARGUMENT when the last message has no tool call.
 * Ownership: `signature` is copied. */
LLMKIT_API llmkit_status llmkit_request_set_tool_call_signature(llmkit_request* request,
                                                                const char* signature);

/* Appends a reasoning block to the last message, which must be the
 * assistant's, after the blocks it already has: `text` (may be NULL) and
 * `signature` (may be NULL) byte for byte as llmkit_response_thinking()
 * gave them. `redacted` non-zero makes it Anthropic's redacted_thinking,
 * whose opaque data is `signature` and which has no text. Anthropic gets
 * the blocks that have a signature first in the message; Gemini gets each
 * on the part it came with (docs/providers.md); OpenAI and Ollama never.
 * LLMKIT_INVALID_ARGUMENT for a block with neither text nor signature, a
 * redacted block with text or without data, or invalid UTF-8.
 * Ownership: both strings are copied. */
LLMKIT_API llmkit_status llmkit_request_add_thinking(llmkit_request* request, const char* text,
                                                     const char* signature, int redacted);

/* Appends the result of the tool call `call_id` as a message of its own. */
LLMKIT_API llmkit_status llmkit_request_add_tool_result(llmkit_request* request,
                                                        const char* call_id, const char* content);

/* Offers a tool: `parameters` is its JSON schema (an object; NULL: none);
 * `description` may be NULL. */
LLMKIT_API llmkit_status llmkit_request_add_tool(llmkit_request* request, const char* name,
                                                 const char* description, const char* parameters);

/* Marks a prompt-cache breakpoint after what the request holds so far: its
 * last message, or the system prompt before any message. Anthropic caches
 * up to the marks (cache_control); OpenAI and Gemini cache on their own and
 * ignore them. */
LLMKIT_API llmkit_status llmkit_request_cache_breakpoint(llmkit_request* request);

/* Why the model stopped (docs/providers.md maps each provider's values). */
typedef enum llmkit_finish_reason {
  LLMKIT_FINISH_NONE = 0, /* not finished: no answer, or a cut stream */
  LLMKIT_FINISH_STOP = 1,
  LLMKIT_FINISH_LENGTH = 2,
  LLMKIT_FINISH_TOOL_CALLS = 3,
  LLMKIT_FINISH_CONTENT_FILTER = 4,
  LLMKIT_FINISH_REFUSAL = 5,
  LLMKIT_FINISH_ERROR = 6
} llmkit_finish_reason;

/* "stop", "length", "tool_calls", "content_filter", "refusal", "error" or
 * "none". Ownership: static. */
LLMKIT_API const char* llmkit_finish_reason_str(llmkit_finish_reason reason);

/* A piece of a streamed answer, handed to an llmkit_stream_fn. */
typedef struct llmkit_chunk llmkit_chunk;

typedef enum llmkit_chunk_kind {
  LLMKIT_CHUNK_TEXT = 0,
  LLMKIT_CHUNK_REASONING = 1,
  LLMKIT_CHUNK_TOOL_CALL = 2 /* a piece of a tool call's arguments */
} llmkit_chunk_kind;

LLMKIT_API llmkit_chunk_kind llmkit_chunk_get_kind(const llmkit_chunk* chunk);
/* The piece's text (a tool call's arguments piece), *len bytes (len may be
 * NULL; the text is also NUL-terminated). Ownership: valid during the
 * callback only. */
LLMKIT_API const char* llmkit_chunk_text(const llmkit_chunk* chunk, size_t* len);
/* A tool call's position in the answer, its id and its name ("" but on
 * the call's first piece); 0 and "" for other kinds. */
LLMKIT_API int llmkit_chunk_tool_index(const llmkit_chunk* chunk);
LLMKIT_API const char* llmkit_chunk_tool_id(const llmkit_chunk* chunk);
LLMKIT_API const char* llmkit_chunk_tool_name(const llmkit_chunk* chunk);

/* Called for each piece of a streamed answer, in order. Return LLMKIT_OK to
 * go on; any other status stops the call, which then returns that status.
 * A blocking call runs it on the calling thread; an async call on the
 * client's loop thread (so it must not block). */
typedef llmkit_status (*llmkit_stream_fn)(const llmkit_chunk* chunk, void* user_data);

/* An answer: a success, or a provider's error with its details. */
typedef struct llmkit_response llmkit_response;

/* Sends `request` and waits for the answer. With `on_chunk` the answer is
 * streamed (SSE or NDJSON) and each piece passed to it as it arrives.
 * `call_options` (may be NULL): "stream" (true: stream without a callback,
 * for the timing figures), "raw" (true: keep the answer's body for
 * llmkit_response_get(.., "raw")), "deadline_ms" (the whole call, retries
 * and their waits included), "tags" ("a,b") and "meta.KEY" (for
 * hooks' rules and events), "route.key" (keeps a caller on one side of
 * traffic splits), and the client's "timeout.*" and "header.NAME"
 * hooks' rules and events), "cache" (use, bypass, refresh:
 * llmkit_client_set_cache), "caller" and "ratelimit.wait_ms"
 * (llmkit_client_set_ratelimiter), and the client's "timeout.*" and "header.NAME"
 * options for this call. `cancel` (may be NULL) ends the call from any
 * thread with LLMKIT_CANCELLED.
 * Returns the outcome: LLMKIT_OK, the provider's error mapped to a status
 * (RATE_LIMITED, AUTH, INVALID_ARGUMENT, NOT_FOUND, OVERLOADED,
 * PROVIDER_ERROR, TIMEOUT), or NETWORK, TIMEOUT, CANCELLED for the
 * transport (a stream cut before the provider's last event is NETWORK,
 * "stream truncated"). *response is set whenever an answer arrived, error
 * answers included (their details: "error.message", "error.detail",
 * "retry_after_ms", "http_status"), else NULL.
 * Ownership: free *response with llmkit_response_free().
 * Thread safety: any thread, concurrently on one client. */
LLMKIT_API llmkit_status llmkit_client_chat(llmkit_client* client, const llmkit_request* request,
                                            const llmkit_options* call_options,
                                            const llmkit_cancel* cancel, llmkit_stream_fn on_chunk,
                                            void* user_data, llmkit_response** response);

/* Called once when an async call ends, on the client's loop thread (on the
 * calling thread, before llmkit_client_chat_async() returns, when a before
 * hook or the client's cache answered), with what llmkit_client_chat()
 * would have returned. The callback owns
 * `response` (may be NULL): free it with llmkit_response_free(). */
typedef void (*llmkit_done_fn)(llmkit_status status, llmkit_response* response, void* user_data);

/* Starts the call llmkit_client_chat() makes and returns at once; `on_done`
 * (required) reports its end. A call that cannot start (a bad request or
 * option, or no deployment that would take it) returns the error and
 * never calls `on_done`. `request` and
 * `call_options` are copied; `cancel` must outlive the call. */
LLMKIT_API llmkit_status llmkit_client_chat_async(llmkit_client* client,
                                                  const llmkit_request* request,
                                                  const llmkit_options* call_options,
                                                  const llmkit_cancel* cancel,
                                                  llmkit_stream_fn on_chunk, llmkit_done_fn on_done,
                                                  void* user_data);

/* Parses `len` bytes of a recorded answer of `provider` (a whole body, or
 * with `stream` non-zero a whole SSE / NDJSON stream) into *response, as a
 * call would. Returns as llmkit_client_chat() does: a parsed error body
 * sets *response and returns its status (classified by the body alone);
 * a body that is no answer returns PROVIDER_ERROR (a cut stream NETWORK)
 * with *response NULL. Ownership: free *response with llmkit_response_free(). */
LLMKIT_API llmkit_status llmkit_response_parse(const char* provider, const char* body, size_t len,
                                               int stream, llmkit_response** response);

/* Destroys a response. NULL does nothing. */
LLMKIT_API void llmkit_response_free(llmkit_response* response);

/* Stores a text field in *value (NUL-terminated) and its size in *len (len
 * may be NULL): "text", "reasoning", "model", "id" (the provider's),
 * "provider", "finish_reason_raw" (the provider's own value),
 * "error.message", "error.detail" ("context_length_exceeded",
 * "overloaded" or ""), "raw" (the body, with the "raw" call option; ""
 * otherwise), "deployment" (the deployment that answered: its name, or
 * the model of the client's own provider). LLMKIT_NOT_FOUND for another
 * name.
 * Ownership: owned by `response`, valid until it is freed. */
LLMKIT_API llmkit_status llmkit_response_get(const llmkit_response* response, const char* field,
                                             const char** value, size_t* len);

/* Stores a number in *value: "status" (an llmkit_status), "http_status",
 * "input_tokens", "output_tokens", "cached_input_tokens",
 * "cache_write_tokens", "reasoning_tokens" (docs/providers.md: cached and
 * cache-write are parts of input, reasoning part of output),
 * "retry_after_ms" (-1: no hint), "latency_ms", "first_token_ms" (-1: no
 * stream or no token), "max_gap_ms" (the longest pause between two stream
 * chunks), "chunks", "output_tokens_per_second" (after the first token),
 * "tool_calls" and "thinking" (how many), "attempts" (tries the call took,
 * retries and fallbacks included), "cost_usd" (from the client's
 * retries included; 1 for an answer from the cache or a hook), "cached" (1
 * for an answer from the client's cache, else 0), "cost_usd" (from the client's
 * price table, docs/cost.md; 0 for an answer no provider was paid for, -1
 * when the model has no price). LLMKIT_NOT_FOUND for another name. */
LLMKIT_API llmkit_status llmkit_response_number(const llmkit_response* response, const char* field,
                                                double* value);

/* The finish reason; LLMKIT_FINISH_NONE for NULL. */
LLMKIT_API llmkit_finish_reason llmkit_response_finish_reason(const llmkit_response* response);

/* Stores tool call `index` (from 0, in the answer's order): its id, name
 * and arguments JSON text. LLMKIT_NOT_FOUND past the last one.
 * Ownership: owned by `response`. */
LLMKIT_API llmkit_status llmkit_response_tool_call(const llmkit_response* response, size_t index,
                                                   const char** id, const char** name,
                                                   const char** arguments);

/* Stores tool call `index`'s signature: Gemini's thoughtSignature on its
 * functionCall part, "" when it has none. LLMKIT_NOT_FOUND past the last
 * tool call. Ownership: owned by `response`, valid until it is freed. */
LLMKIT_API llmkit_status llmkit_response_tool_call_signature(const llmkit_response* response,
                                                             size_t index, const char** signature);

/* Stores reasoning block `index` (from 0, in the answer's order): its text
 * (what "reasoning" concatenates), its signature, and in *redacted 1 for
 * Anthropic's redacted_thinking (its opaque data is the signature, its text
 * "") or 0. Anthropic's thinking blocks and Gemini's thought parts are
 * blocks; a Gemini signature on a text part is a block without text. Other
 * providers give none. What llmkit_request_add_thinking() takes back.
 * LLMKIT_NOT_FOUND past the last. Ownership: owned by `response`, valid
 * until it is freed. */
LLMKIT_API llmkit_status llmkit_response_thinking(const llmkit_response* response, size_t index,
                                                  const char** text, const char** signature,
                                                  int* redacted);

/* Appends the assistant turn of `response` to `request` as its last
 * message: the reasoning blocks, the text and the tool calls with their
 * signatures, exactly as they came, so that tool results can follow and the
 * conversation go on. Anthropic with thinking on, and Gemini 3, refuse a
 * tool-use turn sent back without them. LLMKIT_INVALID_ARGUMENT for an
 * error answer, an answer that did not finish (a cut stream), one with
 * nothing to add, or a tool call whose arguments are not a JSON object.
 * Ownership: everything is copied; `response` may be freed after.
 * Thread safety: `response` may be read by other threads meanwhile; a
 * writer of `request`, as every llmkit_request_* setter. */
LLMKIT_API llmkit_status llmkit_request_add_response(llmkit_request* request,
                                                     const llmkit_response* response);

/* Stores the normalised answer as one JSON object (the form of
 * docs/providers.md and `llmkit replay`).
 * Ownership: owned by `response`, valid until it is freed. */
LLMKIT_API llmkit_status llmkit_response_json(const llmkit_response* response, const char** json,
                                              size_t* len);

/* Embedding vectors, one per input, in input order. */
typedef struct llmkit_vectors llmkit_vectors;

/* Embeds `n` texts (texts[i] of lens[i] bytes) with `model` (NULL: the
 * client's "model"): OpenAI, Gemini and Ollama. `model` may name a group of
 * the client's "deployments", as for chat calls: the router, retries,
 * breakers and fallbacks apply, and the hooks run (their event has no
 * request; docs/routing.md). Inputs are split into batches the provider
 * accepts (OpenAI 2048, Gemini 100, Ollama 512), sent
 * "embeddings.concurrency" at a time. `call_options` (may be NULL):
 * "dimensions", "timeout.*", "header.NAME", "deadline_ms", "tags",
 * "meta.KEY", "route.key". Fails as a whole when any batch fails, with that
 * batch's status; a retry sends every batch again. Ownership: free *out
 * with llmkit_vectors_free(). */
LLMKIT_API llmkit_status llmkit_client_embed(llmkit_client* client, const char* model,
                                             const char* const* texts, const size_t* lens, size_t n,
                                             const llmkit_options* call_options,
                                             const llmkit_cancel* cancel, llmkit_vectors** out);

/* Destroys vectors. NULL does nothing. */
LLMKIT_API void llmkit_vectors_free(llmkit_vectors* vectors);

/* The number of vectors. */
LLMKIT_API size_t llmkit_vectors_count(const llmkit_vectors* vectors);

/* Stores vector `index` in *values (*dims floats). LLMKIT_NOT_FOUND past
 * the last. Ownership: owned by `vectors`. */
LLMKIT_API llmkit_status llmkit_vectors_get(const llmkit_vectors* vectors, size_t index,
                                            const float** values, size_t* dims);

/* Parses `len` bytes of a recorded embeddings answer of `provider`
 * (openai, openai-compatible, gemini's batchEmbedContents, ollama's
 * /api/embed) into *out, every vector it holds. PROVIDER_ERROR for a body
 * that is no embeddings answer; a provider's error body returns its status
 * with *out NULL. Ownership: free *out with llmkit_vectors_free(). */
LLMKIT_API llmkit_status llmkit_vectors_parse(const char* provider, const char* body, size_t len,
                                              llmkit_vectors** out);

/* The input tokens the provider counted (0 when it reports none). */
LLMKIT_API int64_t llmkit_vectors_input_tokens(const llmkit_vectors* vectors);

/* ===================================================================== */
/* Costs                                                                  */
/* ===================================================================== */

/* Cost, tokens and requests summed from the traces table (llmkit_traces)
 * of a SQLite file or a PostgreSQL database, grouped and filtered as a
 * query asks; `llmkit costs` prints the same. docs/costs.md.
 * Thread safety: a result is immutable; any thread may read it. */
typedef struct llmkit_costs llmkit_costs;

/* The row index of llmkit_costs_number() that reads the total. */
#define LLMKIT_COSTS_TOTAL ((size_t)-1)

/* Sums the traces of `db` (a SQLite file's path or "sqlite:PATH", or a
 * "postgresql://" URL) into *out. `query` (may be NULL) takes:
 *   "by"           groups, comma-separated, among application, model,
 *                  provider, caller, deployment; default "model"; "" for
 *                  one group
 *   "per"          "hour" or "day": each group per UTC hour or day too
 *   "since", "until"  the range, start inclusive, end exclusive: a
 *                  duration back from now ("30m", "24h", "7d"), Unix
 *                  seconds, or an ISO-8601 UTC time ("2025-01-31",
 *                  "2025-01-31T12:00:00Z"); default: all time
 *   "top"          keep the N costliest groups (over the whole range, with
 *                  "per"); default 0: all
 *   "application", "model", "caller"   only the calls with that value
 * Rows come costliest first, or in time order with "per". A database
 * without the traces table yet gives no rows and a zero total.
 * LLMKIT_INVALID_ARGUMENT names an unknown key or bad value;
 * LLMKIT_NOT_FOUND for a SQLite file that does not exist;
 * LLMKIT_UNSUPPORTED for a "jsonl:" target; LLMKIT_UNAVAILABLE when the
 * database cannot be reached.
 * Ownership: free *out with llmkit_costs_free(). Thread safety: any thread. */
LLMKIT_API llmkit_status llmkit_costs_query(const char* db, const llmkit_options* query,
                                            llmkit_costs** out);

/* Destroys a result. NULL does nothing. */
LLMKIT_API void llmkit_costs_free(llmkit_costs* costs);

/* The number of rows (the total not included); 0 for NULL. */
LLMKIT_API size_t llmkit_costs_count(const llmkit_costs* costs);

/* Stores a text of row `row` in *value: a group it was grouped by
 * ("application", "model", "provider", "caller", "deployment") or, with
 * "per", "time" (the bucket's start, "2025-01-31T12:00:00Z").
 * LLMKIT_NOT_FOUND past the last row or for a name the query did not group
 * by. Ownership: owned by `costs`, valid until it is freed. */
LLMKIT_API llmkit_status llmkit_costs_get(const llmkit_costs* costs, size_t row, const char* name,
                                          const char** value);

/* Stores a figure of row `row` (LLMKIT_COSTS_TOTAL: of every call in range
 * and filters, not only the rows kept by "top") in *value: "requests",
 * "errors" (status other than OK), "cache_hits", "unpriced" (calls that
 * used tokens, were no cache hit and cost nothing: a model without a price,
 * or priced at 0; no cost guessed), "input_tokens", "output_tokens",
 * "cached_input_tokens", "cache_write_tokens" (parts of input),
 * "reasoning_tokens" (part of output), "cost_usd". LLMKIT_NOT_FOUND past
 * the last row or for another name. */
LLMKIT_API llmkit_status llmkit_costs_number(const llmkit_costs* costs, size_t row,
                                             const char* name, double* value);

/* Stores the whole result as one JSON object in *json (*len bytes; len may
 * be NULL): {"rows": [{"model": "gpt-4o", "requests": 3, ..., "cost_usd":
 * 0.0125}, ...], "total": {...}}, each row holding the groups and "time"
 * llmkit_costs_get() reads and the figures of llmkit_costs_number().
 * Ownership: owned by `costs`, valid until it is freed. */
LLMKIT_API llmkit_status llmkit_costs_json(const llmkit_costs* costs, const char** json,
                                           size_t* len);

/* ===================================================================== */
/* Hooks                                                                  */
/* ===================================================================== */

/* A set of hooks: callbacks that run around the calls of the clients it is
 * attached to (llmkit_client_set_hooks; several clients may share one).
 * Each hook has a kind, a scope and a rule:
 *  - before: may change the request (llmkit_hook_event_set), add metadata,
 *    answer in the provider's place or reject the call; after: a call that
 *    succeeded; error: one that failed; finally: every call, once, last.
 *  - scope NULL or "" is global: the hook runs for every client. A named
 *    scope ("evaluation", "production") runs only for clients created with
 *    it in their "scopes" option ("evaluation,production").
 *  - the rule (NULL or "": every call) is compiled once, here; it reads
 *    the call's model, provider, tags and metadata (the call options
 *    "tags" "a,b" and "meta.KEY") and outcome, e.g.
 *    `model:gpt-4o* and (tag:prod or not provider:ollama)`; docs/hooks.md
 *    has the syntax.
 * Hooks run in registration order. One that fails (returns a status other
 * than OK) never fails the call: it is counted, and its message kept for
 * llmkit_hooks_last_error(). An async hook (LLMKIT_HOOK_ASYNC) runs on the
 * set's own thread, fed through a bounded queue, on a read-only copy of
 * the event: slow work (a database write) adds nothing to the call. A full
 * queue drops the event and counts it, or with "queue_full" "block" waits.
 * Options (may be NULL): "queue_size" (default 10000), "queue_full" (drop
 * or block), "slow_ms" (a hook run longer is counted slow, default 100).
 * Thread safety: every function, any thread, also while calls run (a call
 * uses the hooks as they were when it began). */
typedef struct llmkit_hooks llmkit_hooks;

typedef enum llmkit_hook_kind {
  LLMKIT_HOOK_BEFORE = 0,
  LLMKIT_HOOK_AFTER = 1,
  LLMKIT_HOOK_ERROR = 2,
  LLMKIT_HOOK_FINALLY = 3
} llmkit_hook_kind;

/* Flags of llmkit_hooks_add(). */
#define LLMKIT_HOOK_ASYNC 1u

/* One call as a hook sees it; valid during the callback only. */
typedef struct llmkit_hook_event llmkit_hook_event;

/* A hook. A synchronous hook runs on the thread of the call (for an async
 * call's after, error and finally hooks: the client's loop thread, so it
 * must not block). Return LLMKIT_OK, or a failure: see llmkit_hook_event_fail(). */
typedef llmkit_status (*llmkit_hook_fn)(llmkit_hook_event* event, void* user_data);

/* A rule's pred:NAME. Return 1 to match, 0 not to; anything else fails the
 * rule, which skips its hook and is counted. */
typedef int (*llmkit_predicate_fn)(const llmkit_hook_event* event, void* user_data);

/* Creates an empty set in *out. Ownership: free with llmkit_hooks_free(). */
LLMKIT_API llmkit_status llmkit_hooks_new(const llmkit_options* options, llmkit_hooks** out);

/* Lets go of the set. Clients it is attached to keep it until they are
 * freed or attach another; the last one to let go runs the async events
 * still queued, then stops the set's thread. NULL does nothing. Not to be
 * called from a hook. */
LLMKIT_API void llmkit_hooks_free(llmkit_hooks* hooks);

/* Registers a hook after all others and stores its id (never 0) in *id
 * (id may be NULL). `user_data` must stay valid until the hook is removed
 * and the set freed. INVALID_ARGUMENT, with the column, for a rule that
 * does not compile, or naming an unknown predicate. */
LLMKIT_API llmkit_status llmkit_hooks_add(llmkit_hooks* hooks, llmkit_hook_kind kind,
                                          const char* scope, const char* rule, unsigned flags,
                                          llmkit_hook_fn fn, void* user_data, uint64_t* id);

/* Removes a hook; its async events already queued still run. NOT_FOUND
 * for an unknown id. */
LLMKIT_API llmkit_status llmkit_hooks_remove(llmkit_hooks* hooks, uint64_t id);

/* Registers `fn` as pred:NAME for the rules added after it. `name` is a
 * word of letters, digits, '_', '-' or '.'; INVALID_ARGUMENT when taken. */
LLMKIT_API llmkit_status llmkit_hooks_add_predicate(llmkit_hooks* hooks, const char* name,
                                                    llmkit_predicate_fn fn, void* user_data);

/* Waits until every async event queued so far has run. Not from a hook. */
LLMKIT_API llmkit_status llmkit_hooks_flush(llmkit_hooks* hooks);

/* Stores a counter of hook `id` in *value: "calls" (runs), "skipped" (its
 * rule did not match), "errors", "rule_failures" (its rule failed: not
 * run), "dropped" (async: the queue was full), "slow" (runs over
 * "slow_ms"), "total_us", "max_us" (run time). NOT_FOUND for an unknown
 * id or name. */
LLMKIT_API llmkit_status llmkit_hooks_stat(const llmkit_hooks* hooks, uint64_t id, const char* name,
                                           int64_t* value);

/* Stores the message of hook `id`'s last failure in *message ("" when it
 * never failed). Ownership: valid until this thread's next llmkit call. */
LLMKIT_API llmkit_status llmkit_hooks_last_error(const llmkit_hooks* hooks, uint64_t id,
                                                 const char** message);

/* Attaches `hooks` to `client` for the calls that start from now on (NULL:
 * none). The client keeps the set alive while attached.
 * Thread safety: any thread, also while calls run. */
LLMKIT_API llmkit_status llmkit_client_set_hooks(llmkit_client* client, llmkit_hooks* hooks);

/* The event's kind. */
LLMKIT_API llmkit_hook_kind llmkit_hook_event_kind(const llmkit_hook_event* event);

/* Stores a text in *value (NUL-terminated; len may be NULL): "provider",
 * "model" (where the call goes), "tags" ("a,b"), "meta.KEY" (NOT_FOUND
 * when unset), "message" (error and finally: why the call failed; ""),
 * "request" (the JSON body the provider gets, built on demand; no keys
 * or headers). Ownership: valid until the hook returns. */
LLMKIT_API llmkit_status llmkit_hook_event_get(const llmkit_hook_event* event, const char* field,
                                               const char** value, size_t* len);

/* Stores a number in *value: "status" (after, error, finally: the call's
 * llmkit_status), "elapsed_ms" (since the call began), "cost_usd" (as
 * llmkit_response_number() gives it; -1 before or without an answer),
 * "cached" (1 when the answer came from the client's cache, else 0). */
LLMKIT_API llmkit_status llmkit_hook_event_number(const llmkit_hook_event* event, const char* field,
                                                  double* value);

/* The call's answer (after; error when the provider answered), or NULL.
 * Ownership: owned by the event, valid until the hook returns. */
LLMKIT_API const llmkit_response* llmkit_hook_event_response(const llmkit_hook_event* event);

/* A synchronous before hook's changes (INVALID_ARGUMENT from other hooks):
 * set a request parameter (the keys of llmkit_request_set); add metadata
 * (later hooks' rules and events see it); answer the call with `text`
 * (no provider call; the after hooks run); reject it with `status` (not
 * OK) and `message` (the call returns them; the error hooks run). After
 * an answer or a rejection, no later before hook runs. */
LLMKIT_API llmkit_status llmkit_hook_event_set(llmkit_hook_event* event, const char* key,
                                               const char* value);
LLMKIT_API llmkit_status llmkit_hook_event_set_meta(llmkit_hook_event* event, const char* key,
                                                    const char* value);
LLMKIT_API llmkit_status llmkit_hook_event_answer(llmkit_hook_event* event, const char* text);
LLMKIT_API llmkit_status llmkit_hook_event_reject(llmkit_hook_event* event, llmkit_status status,
                                                  const char* message);

/* Records why the hook failed and returns `status`, for
 * `return llmkit_hook_event_fail(event, LLMKIT_UNAVAILABLE, "db down");`.
 * The message goes to llmkit_hooks_last_error(); the call goes on. */
LLMKIT_API llmkit_status llmkit_hook_event_fail(llmkit_hook_event* event, llmkit_status status,
                                                const char* message);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LLMKIT_H */
