package llmkit

import (
	"context"
	"fmt"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"time"

	"llmkit/internal/raw"
)

// Client calls one provider: OpenAI Chat Completions, any
// OpenAI-compatible server, Anthropic Messages, Gemini or Ollama, or routes
// among several deployments of them ("deployments"). It runs
// one HTTP event loop on a background thread with a shared connection pool,
// which every call shares: a Client is safe for concurrent use by any
// number of goroutines, except Close. Call Close when done; a finalizer
// frees it otherwise, later.
//
// The options are those of llmkit_client_new (durations in ms):
// "provider" (openai, openai-compatible, anthropic, gemini, ollama;
// required), "base_url", "api_key" (default: OPENAI_API_KEY,
// ANTHROPIC_API_KEY, GEMINI_API_KEY then GOOGLE_API_KEY), "model" (for
// requests that name none), "anthropic.version", "timeout.connect",
// "timeout.first_byte", "timeout.total", "timeout.idle",
// "max_connections_per_host", "max_connections", "http2", "tls.verify",
// "tls.ca_file", "proxy", "embeddings.concurrency", "scopes" (the hooks'
// scopes it is in, "a,b"), "header.NAME" to send the header NAME on
// every call, "retry.attempts" (tries per call in all, default 3; 1: no
// retry), "retry.base_ms", "retry.max_ms", "breaker" (default "true": a
// circuit breaker per deployment, BreakerStats) with "breaker.failure_rate",
// "breaker.min_calls", "breaker.window_ms", "breaker.open_ms",
// "breaker.probes", "prices" (Response.Cost; docs/cost.md),
// "cache.scope" (the tenant of its cache keys, SetCache), and
// "deployments", "fallbacks", "route.strategy" to route among several
// deployments (docs/routing.md; Response.Deployment names the one that
// answered), and "trace" (a SQLite path, "jsonl:PATH" or a postgresql://
// URL: a record of every call, written in the background; Flush,
// TraceStats, docs/traces.md) with "trace.queue", "trace.on_full",
// "trace.content", "trace.close_timeout_ms" and "application". The key
// is sent only in the provider's auth header, never in errors or
// responses.
type Client struct {
	h uintptr // the C llmkit_client*; 0 once closed

	hooksMu sync.Mutex   // guards what is attached: hooks, cache, limiter
	hooks   *Hooks       // attached by SetHooks
	cache   *Cache       // set by SetCache: referenced, since C does not own it
	limiter *RateLimiter // set by SetRateLimiter: likewise
}

var errClientClosed = &Error{Status: StatusInvalidArgument, Message: "llmkit: Client used after Close (or not made by NewClient)"}

// NewClient returns a client configured by opts, which it copies: opts may
// be changed or closed afterwards. An unknown option or provider gives an
// error matching ErrInvalidArgument; a provider that needs a key when none
// is set, one matching ErrAuth.
func NewClient(opts *Options) (*Client, error) {
	if opts == nil {
		return nil, &Error{Status: StatusInvalidArgument, Message: "llmkit: NewClient needs Options, not nil"}
	}
	if opts.h == 0 {
		return nil, errClosed
	}
	defer runtime.KeepAlive(opts)
	var h uintptr
	if err := check(raw.Client_new(opts.h, &h)); err != nil {
		return nil, err
	}
	c := &Client{h: h}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close frees the client; calls still running end with ErrCancelled.
// Closing twice is harmless; any other use after Close returns an error
// matching ErrInvalidArgument. Close must not run while another goroutine
// starts a call on c.
func (c *Client) Close() error {
	if c.h != 0 {
		raw.Client_free(c.h)
		c.h = 0
		runtime.SetFinalizer(c, nil)
		c.hooksMu.Lock()
		hooks := c.hooks
		c.hooks = nil
		c.cache, c.limiter = nil, nil
		c.hooksMu.Unlock()
		if hooks != nil {
			hooks.detach()
		}
	}
	return nil
}

// SetCache puts cache in front of c's calls that start from now on; nil
// takes it away. A call's key is its request as made (after the before
// hooks), its model and the client option "cache.scope" (the tenant), not
// the provider that answers; the call option "cache" ("use", "bypass",
// "refresh") chooses per call. A hit ends the call with the stored answer:
// Response.Cached is true, Cost 0, Attempts 1, no rate limit is spent, and
// a streaming call gets it through onChunk first (docs/cache.md). c keeps
// cache from the garbage collector while it is set, but cache must not be
// closed while a client uses it: close the clients first.
func (c *Client) SetCache(cache *Cache) error {
	var h uintptr
	if cache != nil {
		if h = cache.h; h == 0 {
			return errCacheClosed
		}
	}
	return c.hold(func() error { return check(raw.Client_set_cache(c.h, h)) }, func() { c.cache = cache })
}

// SetRateLimiter limits c's calls that start from now on per caller, the
// call option "caller" ("" for calls without one); nil takes it away. Each
// call is one request, a concurrency slot and its estimated tokens (input
// and "max_tokens"), settled to the provider's usage when it ends. A
// refused call fails with an error matching ErrRateLimited, naming the
// caller, without reaching the provider; the call option
// "ratelimit.wait_ms" waits that long for room instead (docs/ratelimit.md).
// As for SetCache, c keeps limiter referenced, and limiter must not be
// closed while a client uses it.
func (c *Client) SetRateLimiter(limiter *RateLimiter) error {
	var h uintptr
	if limiter != nil {
		if h = limiter.h; h == 0 {
			return errRateLimiterClosed
		}
	}
	return c.hold(func() error { return check(raw.Client_set_ratelimiter(c.h, h)) }, func() { c.limiter = limiter })
}

// hold runs set, which hands C an object it does not own, then keep, which
// references it from c so that the collector leaves it while c lives.
func (c *Client) hold(set func() error, keep func()) error {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	if c.h == 0 {
		return errClientClosed
	}
	defer runtime.KeepAlive(c)
	if err := set(); err != nil {
		return err
	}
	keep()
	return nil
}

// ResponseError is a failed call the provider answered: its error, as for
// any failed call, and the answer with its details (Response.HTTPStatus,
// RetryAfter, ErrorMessage, ErrorDetail such as
// "context_length_exceeded"). errors.Is matches it with the sentinel of
// its status (ErrRateLimited, ErrOverloaded ...), and errors.As finds it:
//
//	var re *llmkit.ResponseError
//	if errors.As(err, &re) && re.Response.RetryAfter > 0 { ... }
type ResponseError struct {
	Err      *Error
	Response *Response
}

func (e *ResponseError) Error() string { return e.Err.Error() }

// Unwrap gives the *Error, for errors.Is and errors.As.
func (e *ResponseError) Unwrap() error { return e.Err }

// optionsHandle is the handle of opts, nil meaning none.
func optionsHandle(opts *Options) (uintptr, error) {
	if opts == nil {
		return 0, nil
	}
	if opts.h == 0 {
		return 0, errClosed
	}
	return opts.h, nil
}

// Chat sends req and waits for the whole answer. callOpts (nil for none)
// holds this call's settings: "stream" ("true": stream without a callback,
// for the timing figures), "raw" ("true": keep the answer's body in
// Response.Raw), "deadline_ms" (the whole call, retries and their waits
// included), "timeout.*", "header.NAME", and for the hooks "tags" ("a,b")
// and "meta.KEY", "cache" (SetCache), "caller" and "ratelimit.wait_ms"
// (SetRateLimiter).
//
// A call failing as another try may cure (rate limited, overloaded, the
// network, a timeout, a 5xx) is tried again after a backoff, up to the
// client's "retry.attempts"; Response.Attempts counts the tries. The
// error matches the sentinel of its status: the provider's error
// (ErrRateLimited, ErrAuth, ErrInvalidArgument, ErrNotFound, ErrOverloaded,
// ErrProviderError, ErrTimeout), ErrNetwork, ErrTimeout for the
// transport (a stream cut short is ErrNetwork, "stream truncated"), or
// ErrUnavailable while the model's circuit is open (BreakerStats). When
// the provider answered, the error is a *ResponseError holding the answer.
// ctx ends the call: cancelled, with an error matching both ErrCancelled
// and context.Canceled; at its deadline, both ErrTimeout and
// context.DeadlineExceeded.
func (c *Client) Chat(ctx context.Context, req *Request, callOpts *Options) (*Response, error) {
	return c.chat(ctx, req, callOpts, nil)
}

// ChatStream sends req and streams the answer, calling onChunk with each
// piece as it arrives, in order, on the calling goroutine; it returns the
// whole answer as Chat does. When onChunk returns an error the stream
// stops and ChatStream returns that error as is; when onChunk panics the
// stream stops and ChatStream panics with the same value. onChunk runs
// inside a C call, so it must not call runtime.Goexit (t.FailNow, t.Fatal
// in a test).
func (c *Client) ChatStream(ctx context.Context, req *Request, callOpts *Options, onChunk func(Chunk) error) (*Response, error) {
	if onChunk == nil {
		return nil, &Error{StatusInvalidArgument, "llmkit: ChatStream needs an onChunk function, not nil"}
	}
	return c.chat(ctx, req, callOpts, onChunk)
}

// streamState is what the stream callback leaves for the call to return.
type streamState struct {
	err      error
	panicked bool
	panicVal any
}

func (c *Client) chat(ctx context.Context, req *Request, callOpts *Options, onChunk func(Chunk) error) (*Response, error) {
	if c.h == 0 {
		return nil, errClientClosed
	}
	opts, err := optionsHandle(callOpts)
	if err != nil {
		return nil, err
	}
	r, err := newRequest(req)
	if err != nil {
		return nil, err
	}
	defer raw.Request_free(r)
	defer runtime.KeepAlive(c)
	defer runtime.KeepAlive(callOpts)

	var stream uint // a cgo.Handle; 0: not streamed
	var state streamState
	if onChunk != nil {
		// Runs on this goroutine, inside the C call: a panic must not
		// unwind through C frames, so it is caught here and raised again
		// once C has returned.
		h := cgo.NewHandle(raw.ChunkFunc(func(ch raw.Chunk) (status int) {
			returned := false // not recover() != nil: panic(nil) recovers nil
			defer func() {
				if !returned {
					state.panicked, state.panicVal = true, recover()
					status = int(StatusCancelled)
				}
			}()
			err := onChunk(Chunk{Kind: ChunkKind(ch.Kind), Text: ch.Text, ToolIndex: ch.ToolIndex, ToolID: ch.ToolID, ToolName: ch.ToolName})
			returned = true
			if err != nil {
				state.err = err
				return int(StatusCancelled)
			}
			return int(StatusOK)
		}))
		defer h.Delete()
		stream = uint(h)
	}

	var out uintptr
	err = callWithContext(ctx, func(cancel uintptr) *raw.Failure {
		return raw.Client_chat(c.h, r, opts, cancel, stream, &out)
	})
	var resp *Response
	if out != 0 {
		resp = readResponse(out)
		raw.Response_free(out)
	}
	if state.panicked {
		panic(state.panicVal)
	}
	if state.err != nil {
		return nil, state.err
	}
	return answer(resp, err)
}

// answer is what a call returns: the response, or the error, holding the
// response when there is one.
func answer(resp *Response, err error) (*Response, error) {
	if err == nil {
		return resp, nil
	}
	if e, ok := err.(*Error); ok && resp != nil {
		return nil, &ResponseError{Err: e, Response: resp}
	}
	return nil, err
}

// ParseResponse reads a recorded answer of provider ("openai",
// "anthropic", "gemini", "ollama", "openai-compatible") as a call would,
// without a network: a whole body, or with stream a whole SSE / NDJSON
// stream. A provider's error body gives a *ResponseError of its status
// (classified by the body alone); a body that is no answer an error
// matching ErrProviderError (a cut stream ErrNetwork).
func ParseResponse(provider string, body []byte, stream bool) (*Response, error) {
	if err := checkName("provider", provider); err != nil {
		return nil, err
	}
	flag := 0
	if stream {
		flag = 1
	}
	var out uintptr
	err := check(raw.Response_parse(provider, body, flag, &out))
	var resp *Response
	if out != 0 {
		resp = readResponse(out)
		raw.Response_free(out)
	}
	return answer(resp, err)
}

// Embeddings are the vectors of an embeddings call, one per input, in input
// order.
type Embeddings struct {
	Vectors [][]float32
	// InputTokens is what the provider counted (0 when it reports none).
	InputTokens int64
}

// Embed embeds texts with model ("" for the client's "model"): OpenAI,
// Gemini and Ollama. The inputs are split into batches the provider
// accepts (OpenAI 2048, Gemini 100, Ollama 512), sent
// "embeddings.concurrency" at a time; the call fails as a whole, with that
// batch's error, when any batch fails. callOpts (nil for none):
// "dimensions", "timeout.*", "header.NAME". ctx ends the call as Chat's.
func (c *Client) Embed(ctx context.Context, model string, texts []string, callOpts *Options) (*Embeddings, error) {
	if c.h == 0 {
		return nil, errClientClosed
	}
	if err := checkName("model", model); err != nil {
		return nil, err
	}
	opts, err := optionsHandle(callOpts)
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(c)
	defer runtime.KeepAlive(callOpts)
	// cgo lets no C array hold Go pointers: the texts go joined, with
	// their lengths.
	lens := make([]int, len(texts))
	size := 0
	for i, t := range texts {
		lens[i] = len(t)
		size += len(t)
	}
	var joined strings.Builder
	joined.Grow(size)
	for _, t := range texts {
		joined.WriteString(t)
	}
	var v uintptr
	err = callWithContext(ctx, func(cancel uintptr) *raw.Failure {
		return raw.Client_embed(c.h, model, joined.String(), lens, opts, cancel, &v)
	})
	if err != nil {
		return nil, err
	}
	defer raw.Vectors_free(v)
	return readVectors(v)
}

// ParseEmbeddings reads a recorded embeddings answer of provider (openai,
// openai-compatible, gemini's batchEmbedContents, ollama's /api/embed):
// every vector it holds. A body that is no embeddings answer is an error
// matching ErrProviderError; a provider's error body one of its status.
func ParseEmbeddings(provider string, body []byte) (*Embeddings, error) {
	if err := checkName("provider", provider); err != nil {
		return nil, err
	}
	var v uintptr
	if err := check(raw.Vectors_parse(provider, body, &v)); err != nil {
		return nil, err
	}
	defer raw.Vectors_free(v)
	return readVectors(v)
}

func readVectors(v uintptr) (*Embeddings, error) {
	n := int(raw.Vectors_count(v))
	e := &Embeddings{Vectors: make([][]float32, n), InputTokens: raw.Vectors_input_tokens(v)}
	for i := range e.Vectors {
		var vec []float32 // not &e.Vectors[i]: cgo checks the whole array it points into
		if err := check(raw.Vectors_get(v, int64(i), &vec)); err != nil {
			return nil, err
		}
		if vec == nil {
			vec = []float32{}
		}
		e.Vectors[i] = vec
	}
	return e, nil
}

// BreakerState is the state of a deployment's circuit breaker; values match
// llmkit_client_breaker_stat's "state".
type BreakerState int

const (
	BreakerClosed   BreakerState = iota // calls go
	BreakerOpen                         // calls fail at once with ErrUnavailable
	BreakerHalfOpen                     // probe calls go
)

var breakerStateNames = [...]string{"closed", "open", "half-open"}

// String is "closed", "open" or "half-open".
func (s BreakerState) String() string {
	if s >= 0 && int(s) < len(breakerStateNames) {
		return breakerStateNames[s]
	}
	return fmt.Sprintf("BreakerState(%d)", int(s))
}

// BreakerStats are the figures of a deployment's circuit breaker
// (docs/providers.md, "Circuit breakers").
type BreakerStats struct {
	State    BreakerState
	Opened   int64 // times it opened
	Rejected int64 // calls failed at once while it was open
	Calls    int64 // calls ended in the window now
	Failures int64 // of those, the ones that failed as a retry would cure
	// RetryIn is, while open, the time until the next probe goes.
	RetryIn time.Duration
}

// BreakerStats returns the figures of the circuit breaker of deployment:
// a name in the client's "deployments", or a model of its own provider
// ("breaker.*" options). Before the first call to it, or with "breaker"
// "false", the error matches ErrNotFound.
func (c *Client) BreakerStats(deployment string) (BreakerStats, error) {
	if c.h == 0 {
		return BreakerStats{}, errClientClosed
	}
	if err := checkName("deployment", deployment); err != nil {
		return BreakerStats{}, err
	}
	defer runtime.KeepAlive(c)
	var state, retryIn int64
	s := BreakerStats{}
	for _, f := range []struct {
		name string
		to   *int64
	}{
		{"state", &state}, {"opened", &s.Opened}, {"rejected", &s.Rejected},
		{"calls", &s.Calls}, {"failures", &s.Failures}, {"retry_in_ms", &retryIn},
	} {
		var v int64 // not f.to: cgo checks the whole Go object an out-parameter points into
		if err := check(raw.Client_breaker_stat(c.h, deployment, f.name, &v)); err != nil {
			return BreakerStats{}, err
		}
		*f.to = v
	}
	s.State, s.RetryIn = BreakerState(state), time.Duration(retryIn)*time.Millisecond
	return s, nil
}

// Flush waits until the trace records of every call that ended before it
// are written ("trace"; docs/traces.md), at most timeout. It returns nil at
// once for a client without "trace", and an error matching ErrTimeout
// when records are still queued (with the database's last error when it
// is failing: they are written once it is back). Close writes them too.
func (c *Client) Flush(timeout time.Duration) error {
	if c.h == 0 {
		return errClientClosed
	}
	defer runtime.KeepAlive(c)
	if timeout < 0 {
		timeout = 0
	}
	return check(raw.Client_flush(c.h, timeout.Milliseconds()))
}

// TraceStats are the figures of a client's trace writer (docs/traces.md);
// all 0 for a client without "trace".
type TraceStats struct {
	Written      int64 // records in the database
	Dropped      int64 // records lost to a full queue ("trace.on_full" "drop")
	FailedWrites int64 // batches the database refused, each tried again later
	Queued       int64 // records not yet written
}

// TraceStats returns the figures of c's trace writer.
func (c *Client) TraceStats() (TraceStats, error) {
	if c.h == 0 {
		return TraceStats{}, errClientClosed
	}
	defer runtime.KeepAlive(c)
	s := TraceStats{}
	for _, f := range []struct {
		name string
		to   *int64
	}{
		{"written", &s.Written}, {"dropped", &s.Dropped},
		{"failed_writes", &s.FailedWrites}, {"queued", &s.Queued},
	} {
		var v int64 // not f.to: cgo checks the whole Go object an out-parameter points into
		if err := check(raw.Client_trace_stat(c.h, f.name, &v)); err != nil {
			return TraceStats{}, err
		}
		*f.to = v
	}
	return s, nil
}
