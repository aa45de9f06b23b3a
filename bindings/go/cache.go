package llmkit

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"llmkit/internal/raw"
)

// Cache holds provider answers keyed by the request that produced them:
// Key computes a request's key, Get and Put read and store the answer, and
// GetOrFill does both with stampede protection, so that many goroutines
// missing the same key make one upstream call. Embeddings caches each input
// of an embeddings request on its own. Values are any bytes.
//
// Keys are 32 lower-case hex digits, a hash of the scope (the tenant), the
// provider and a canonical form of the request: JSON key order, number
// spelling (1, 1.0, 1e0) and string escapes do not change it; fields that
// cannot change the answer are left out (docs/cache.md lists them).
//
// A Cache is safe for concurrent use: any number of goroutines may call its
// methods at once, except Close. Call Close when done; a finalizer frees it
// otherwise, later.
//
// The options are those of llmkit_cache_new: "max_entries" (default
// 100000), "max_bytes" (default 64 MiB; a value over max_bytes / shards is
// not stored), "shards" (default 16), "ttl" in seconds (default 3600; 0:
// entries never expire), "temperature": "cache" (the default) or "skip"
// (requests sampled at a temperature other than 0 bypass the cache), and
// "backend": "memory" (the default) or "redis", with "redis.url",
// "redis.prefix", "redis.timeout_ms" and "local.ttl".
type Cache struct {
	h uintptr // the C llmkit_cache*; 0 once closed
}

var errCacheClosed = &Error{Status: StatusInvalidArgument, Message: "llmkit: Cache used after Close (or not made by NewCache)"}

// NewCache returns a cache configured by opts, which it copies: opts may be
// changed or closed afterwards. nil opts means every default. An unknown
// option or a bad value gives an error matching ErrInvalidArgument that
// names it.
func NewCache(opts *Options) (*Cache, error) {
	if opts == nil {
		o, err := NewOptions()
		if err != nil {
			return nil, err
		}
		defer o.Close()
		opts = o
	}
	if opts.h == 0 {
		return nil, errClosed
	}
	defer runtime.KeepAlive(opts)
	var h uintptr
	if err := check(raw.Cache_new(opts.h, &h)); err != nil {
		return nil, err
	}
	c := &Cache{h: h}
	runtime.SetFinalizer(c, (*Cache).Close)
	return c, nil
}

// Close frees the cache and its in-memory entries (Redis keeps its own).
// Closing twice is harmless; any other use after Close returns an error
// matching ErrInvalidArgument. Close must not run while another goroutine
// uses c, GetOrFill and Embeddings included.
func (c *Cache) Close() error {
	if c.h != 0 {
		raw.Cache_free(c.h)
		c.h = 0
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

// CacheMode is what a call should do with the cache; values match
// llmkit_cache_use.
type CacheMode int

const (
	// CacheBypass: neither look up nor store.
	CacheBypass CacheMode = iota
	// CacheUse: look up; on a miss, store the answer.
	CacheUse
	// CacheRefresh: skip the lookup; store the fresh answer.
	CacheRefresh
)

// String is the mode as the "cache" call option spells it: "bypass", "use"
// or "refresh".
func (m CacheMode) String() string {
	switch m {
	case CacheBypass:
		return "bypass"
	case CacheUse:
		return "use"
	case CacheRefresh:
		return "refresh"
	}
	return fmt.Sprintf("CacheMode(%d)", int(m))
}

// Key returns the key of request, the body of a request to provider
// ("openai", "anthropic", "gemini", "ollama" or any other name) as a JSON
// object, and what the call should do with the cache. scope names the
// tenant ("" for none): keys of different scopes never meet. callOpts
// (nil for none) holds per-call settings: "cache" = "use" (the default),
// "bypass" or "refresh". The mode is CacheBypass when the call opts out or
// the cache's "temperature" policy skips the request; the key is returned
// either way. Malformed JSON or invalid UTF-8 is an error matching
// ErrInvalidArgument.
func (c *Cache) Key(scope, provider string, request []byte, callOpts *Options) (key string, mode CacheMode, err error) {
	if c.h == 0 {
		return "", CacheBypass, errCacheClosed
	}
	if err := checkName("scope", scope); err != nil {
		return "", CacheBypass, err
	}
	if err := checkName("provider", provider); err != nil {
		return "", CacheBypass, err
	}
	var opts uintptr
	if callOpts != nil {
		if callOpts.h == 0 {
			return "", CacheBypass, errClosed
		}
		opts = callOpts.h
		defer runtime.KeepAlive(callOpts)
	}
	defer runtime.KeepAlive(c)
	// One variable for both out-parameters: one allocation, not two.
	var out struct {
		key  [raw.LLMKIT_CACHE_KEY_SIZE]byte
		mode int
	}
	if err := check(raw.Cache_key(c.h, scope, provider, request, opts, &out.key, &out.mode)); err != nil {
		return "", CacheBypass, err
	}
	return string(out.key[:raw.LLMKIT_CACHE_KEY_SIZE-1]), CacheMode(out.mode), nil
}

// checkCacheKey rejects a key C would cut short at a NUL byte; C judges
// the rest.
func checkCacheKey(key string) error { return checkName("cache key", key) }

// takeValue copies the bytes of a value handle into Go memory and frees it.
// A zero handle (a miss) gives nil, false.
func takeValue(v uintptr) ([]byte, bool, error) {
	if v == 0 {
		return nil, false, nil
	}
	defer raw.Cache_value_free(v)
	var b []byte
	if err := check(raw.Cache_value_data(v, &b)); err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Get returns a copy of the value stored under key and true, or nil and
// false on a miss (an absent or expired entry, or an unreachable Redis).
// A key that is not 32 hex digits is an error matching ErrInvalidArgument.
func (c *Cache) Get(key string) (value []byte, ok bool, err error) {
	if c.h == 0 {
		return nil, false, errCacheClosed
	}
	if err := checkCacheKey(key); err != nil {
		return nil, false, err
	}
	defer runtime.KeepAlive(c)
	var v uintptr
	if err := check(raw.Cache_get(c.h, key, &v)); err != nil {
		return nil, false, err
	}
	return takeValue(v)
}

// ttlMs is ttl in whole ms, rounded up so that a short TTL never becomes 0
// (which means the cache's default), capped at what C accepts.
func ttlMs(what string, ttl time.Duration) (int64, error) {
	if ttl < 0 {
		return 0, &Error{StatusInvalidArgument, fmt.Sprintf("%s must not be negative, not %v", what, ttl)}
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	if ms > maxTimeoutMs {
		ms = maxTimeoutMs
	}
	return ms, nil
}

// Put stores a copy of value under key for ttl (0: the cache's "ttl"
// option; rounded up to the millisecond), replacing any entry, and wakes
// the GetOrFill calls waiting on key. A negative ttl is an error matching
// ErrInvalidArgument.
func (c *Cache) Put(key string, value []byte, ttl time.Duration) error {
	if c.h == 0 {
		return errCacheClosed
	}
	if err := checkCacheKey(key); err != nil {
		return err
	}
	ms, err := ttlMs("ttl", ttl)
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(c)
	return check(raw.Cache_put(c.h, key, value, ms))
}

// Invalidate removes the entry of key, if any. With "redis" it is removed
// from Redis too, and an unreachable Redis is an error matching
// ErrUnavailable, since the entry may live on there.
func (c *Cache) Invalidate(key string) error {
	if c.h == 0 {
		return errCacheClosed
	}
	if err := checkCacheKey(key); err != nil {
		return err
	}
	defer runtime.KeepAlive(c)
	return check(raw.Cache_invalidate(c.h, key))
}

// Clear removes every entry: in memory, and with "redis" every key under
// "redis.prefix" (an error matching ErrUnavailable when Redis cannot be
// reached).
func (c *Cache) Clear() error {
	if c.h == 0 {
		return errCacheClosed
	}
	defer runtime.KeepAlive(c)
	return check(raw.Cache_clear(c.h))
}

// GetOrFill returns the value of key, calling fill to make it on a miss and
// storing what fill returns with the cache's default TTL. Of the goroutines
// that miss the same key at once, only the first calls fill; the others
// wait up to wait for its value (0: not at once) and, when the wait runs
// out, call fill themselves. When fill fails, its error is returned as is
// and a waiting goroutine takes over; a later GetOrFill calls fill again
// (errors are not cached). A panic in fill likewise hands over, then goes
// on.
//
// ctx bounds the wait: GetOrFill gives up with an error matching both
// ErrCancelled and context.Canceled when ctx is cancelled, or both
// ErrTimeout and context.DeadlineExceeded at its deadline. ctx is not
// passed to fill, which should take its own.
//
// When storing the value fails, GetOrFill returns fill's value together
// with the error. Waiting is per process: with "redis", other processes
// may call fill for the same key at the same time.
func (c *Cache) GetOrFill(ctx context.Context, key string, wait time.Duration, fill func() ([]byte, error)) ([]byte, error) {
	if c.h == 0 {
		return nil, errCacheClosed
	}
	if fill == nil {
		return nil, &Error{StatusInvalidArgument, "llmkit: GetOrFill needs a fill function, not nil"}
	}
	if err := checkCacheKey(key); err != nil {
		return nil, err
	}
	waitMs, err := ttlMs("wait", wait)
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(c)
	var out struct {
		v    uintptr
		fill bool
	}
	// The wait is C's own; ctx's deadline ends it through the cancel signal,
	// so a wait longer than the deadline is still a timeout, not a miss.
	err = withContext(ctx, func(cancel uintptr, _ int64) *raw.Failure {
		return raw.Cache_lookup(c.h, key, waitMs, cancel, &out.v, &out.fill)
	})
	if err != nil {
		return nil, err
	}
	if out.v != 0 {
		b, _, err := takeValue(out.v)
		return b, err
	}
	if !out.fill {
		// The wait ran out: fill on our own, without the filler's duty.
		b, err := fill()
		if err != nil {
			return nil, err
		}
		return b, c.Put(key, b, 0)
	}
	// The filler must put or abandon, whatever fill does.
	done := false
	defer func() {
		if !done {
			raw.Cache_abandon(c.h, key)
		}
	}()
	b, err := fill()
	if err != nil {
		return nil, err
	}
	if err := c.Put(key, b, 0); err != nil {
		return b, err
	}
	done = true
	return b, nil
}

// CacheStats are a cache's counters, as Stat names them.
type CacheStats struct {
	Hits          uint64 // "hits": lookups that found a value
	Misses        uint64 // "misses": lookups that did not
	Evictions     uint64 // "evictions": entries pushed out by the bounds
	Expirations   uint64 // "expirations": entries dropped past their TTL
	Entries       uint64 // "entries": entries held in memory now
	Bytes         uint64 // "bytes": memory they take
	Waits         uint64 // "waits": GetOrFill calls that waited on another's fill
	BackendErrors uint64 // "backend_errors": failed Redis calls, each turned into a miss
}

// Stats returns every counter. They are read one after the other, so while
// other goroutines use c they need not agree with each other exactly.
func (c *Cache) Stats() (CacheStats, error) {
	var s CacheStats
	for _, f := range []struct {
		name string
		v    *uint64
	}{{"hits", &s.Hits}, {"misses", &s.Misses}, {"evictions", &s.Evictions}, {"expirations", &s.Expirations},
		{"entries", &s.Entries}, {"bytes", &s.Bytes}, {"waits", &s.Waits}, {"backend_errors", &s.BackendErrors}} {
		v, err := c.Stat(f.name)
		if err != nil {
			return CacheStats{}, err
		}
		*f.v = v
	}
	return s, nil
}

// Stat returns one counter by its C name ("hits", "misses", "evictions",
// "expirations", "entries", "bytes", "waits", "backend_errors"), or an
// error matching ErrNotFound.
func (c *Cache) Stat(name string) (uint64, error) {
	if c.h == 0 {
		return 0, errCacheClosed
	}
	if err := checkName("statistic", name); err != nil {
		return 0, err
	}
	defer runtime.KeepAlive(c)
	var v uint64
	if err := check(raw.Cache_stat(c.h, name, &v)); err != nil {
		return 0, err
	}
	return v, nil
}

// Embeddings answers an embeddings request (OpenAI's shape: "model",
// "input" as a string or an array of strings or of token arrays, and
// parameters such as "dimensions") from the cache, input by input. Only the
// inputs it does not hold go upstream: upstream gets the original request
// with "input" holding just those, in their original order, and is not
// called when every input is cached. Its answer's embeddings are stored
// with the cache's default TTL. The result is the answer to the whole
// request: every input's embedding at its original "index", with "usage"
// as upstream counted it for the misses.
//
// An error from upstream is returned as is; an answer with the wrong
// number of embeddings is an error matching ErrProviderError; a request
// without a usable "input" one matching ErrInvalidArgument.
func (c *Cache) Embeddings(scope, provider string, request []byte, upstream func(request []byte) ([]byte, error)) ([]byte, error) {
	if c.h == 0 {
		return nil, errCacheClosed
	}
	if upstream == nil {
		return nil, &Error{StatusInvalidArgument, "llmkit: Embeddings needs an upstream function, not nil"}
	}
	if err := checkName("scope", scope); err != nil {
		return nil, err
	}
	if err := checkName("provider", provider); err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(c)
	var batch uintptr
	if err := check(raw.Embeddings_new(c.h, scope, provider, request, &batch)); err != nil {
		return nil, err
	}
	defer raw.Embeddings_free(batch)
	var misses int
	var req []byte // a copy: upstream may keep it
	if err := check(raw.Embeddings_upstream(batch, &misses, &req)); err != nil {
		return nil, err
	}
	var answer []byte
	if misses > 0 {
		var err error
		if answer, err = upstream(req); err != nil {
			return nil, err
		}
	}
	var resp []byte
	if err := check(raw.Embeddings_complete(batch, answer, 0, &resp)); err != nil {
		return nil, err
	}
	return resp, nil
}

// Replay returns the chunks a streaming caller would have received for a
// Chat Completions answer (OpenAI's "chat.completion" JSON), each the JSON
// of one "chat.completion.chunk", the payload of one server-sent event: a
// role chunk, the content in pieces of about pieceBytes bytes (0: 64;
// never splitting a UTF-8 character), tool calls with their arguments in
// pieces, the finish reason, and a usage chunk when the answer has
// "usage". Malformed JSON, or JSON that is not a chat completion, is an
// error matching ErrInvalidArgument.
func Replay(completion []byte, pieceBytes int) ([][]byte, error) {
	if pieceBytes < 0 {
		return nil, &Error{StatusInvalidArgument, fmt.Sprintf("pieceBytes must not be negative, not %d", pieceBytes)}
	}
	var h uintptr
	if err := check(raw.Replay_new(completion, int64(pieceBytes), &h)); err != nil {
		return nil, err
	}
	defer raw.Replay_free(h)
	var chunks [][]byte
	for {
		var chunk []byte
		if err := check(raw.Replay_next(h, &chunk)); err != nil {
			return nil, err
		}
		if chunk == nil {
			return chunks, nil
		}
		chunks = append(chunks, chunk)
	}
}
