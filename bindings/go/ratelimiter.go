package llmkit

import (
	"context"
	"runtime"
	"time"

	"llmkit/internal/raw"
)

// RateLimiter enforces per-key limits on requests per window, tokens per
// window and requests in flight. A request is admitted against all of them
// or charged to none, and over any window no key is admitted more than its
// limit plus its burst. Keys are any bytes (a user id, a team name): a Go
// string goes to C as it is, so "" and strings with NUL bytes are keys like
// any other.
//
// A RateLimiter is safe for concurrent use: any number of goroutines may
// call its methods at once, except Close. Call Close when done; a finalizer
// frees it otherwise, later.
//
// The options are those of llmkit_ratelimiter_new: "requests" and
// "tokens" per window, "window" in seconds (default 60), "burst_requests"
// and "burst_tokens" (default: the limits), "concurrency" (requests in
// flight), and "backend": "memory" (the default), or "shm" or "redis" for
// one limit shared by processes or hosts (docs/ratelimit.md). At least one
// of "requests", "tokens" and "concurrency" must be set.
type RateLimiter struct {
	h uintptr // the C llmkit_ratelimiter*; 0 once closed
}

var errRateLimiterClosed = &Error{Status: StatusInvalidArgument, Message: "llmkit: RateLimiter used after Close (or not made by NewRateLimiter)"}

// NewRateLimiter returns a rate limiter configured by opts, which it copies:
// opts may be changed or closed afterwards. An unknown option or a bad value
// gives an error matching ErrInvalidArgument that names it.
func NewRateLimiter(opts *Options) (*RateLimiter, error) {
	if opts == nil {
		return nil, &Error{Status: StatusInvalidArgument, Message: "llmkit: NewRateLimiter needs Options, not nil"}
	}
	if opts.h == 0 {
		return nil, errClosed
	}
	defer runtime.KeepAlive(opts)
	var h uintptr
	if err := check(raw.Ratelimiter_new(opts.h, &h)); err != nil {
		return nil, err
	}
	r := &RateLimiter{h: h}
	runtime.SetFinalizer(r, (*RateLimiter).Close)
	return r, nil
}

// Close frees the rate limiter. Closing twice is harmless; any other use
// after Close returns an error matching ErrInvalidArgument. Close must not
// run while another goroutine uses r, Acquire included.
func (r *RateLimiter) Close() error {
	if r.h != 0 {
		raw.Ratelimiter_free(r.h)
		r.h = 0
		runtime.SetFinalizer(r, nil)
	}
	return nil
}

// Decision is the answer of Check.
type Decision struct {
	// Allowed: the request was admitted and charged to every limit. With
	// "concurrency" set it also holds a slot until Release.
	Allowed bool
	// RetryAfter, when refused, is how long until the same request fits,
	// rounded up to the millisecond. It is 0 when only the concurrency limit
	// refused it (a slot frees when its holder calls Release) and when
	// NeverFits.
	RetryAfter time.Duration
	// NeverFits: refused because the request asks for more tokens than the
	// burst allows; no wait will admit it, and Acquire says ErrRateLimited.
	NeverFits bool
	// RemainingRequests and RemainingTokens are what the key may still take
	// now; math.MaxInt64 for a limit that is off.
	RemainingRequests int64
	RemainingTokens   int64
}

// Check asks, without waiting, to admit one request of tokens tokens for
// key. When admitted, the request is charged to every limit; when refused,
// nothing is charged. A request that uses a different number of tokens
// than it asked for settles with Reconcile. More than about 9.2 billion
// tokens (MaxInt64 ns / 10⁹) is an error matching ErrInvalidArgument.
func (r *RateLimiter) Check(key string, tokens uint64) (Decision, error) {
	if r.h == 0 {
		return Decision{}, errRateLimiterClosed
	}
	defer runtime.KeepAlive(r)
	// One variable for all the out-parameters: cgo moves what C gets a
	// pointer to onto the heap, and one allocation beats four.
	var out struct {
		allowed                   bool
		retryMs, requests, tokens int64
	}
	if err := check(raw.Ratelimiter_check(r.h, key, tokens, &out.allowed, &out.retryMs, &out.requests, &out.tokens)); err != nil {
		return Decision{}, err
	}
	d := Decision{Allowed: out.allowed, RemainingRequests: out.requests, RemainingTokens: out.tokens}
	if out.retryMs < 0 {
		d.NeverFits = true
	} else {
		d.RetryAfter = time.Duration(out.retryMs) * time.Millisecond
	}
	return d, nil
}

// Acquire waits until one request of tokens tokens for key is admitted and
// returns nil, charged as by Check (a concurrency slot included: Release
// it). It gives up with an error
//   - matching ErrRateLimited when the request can never fit (NeverFits);
//   - matching both ErrTimeout and context.DeadlineExceeded when ctx's
//     deadline would pass first, returned as soon as that is known, which
//     for a wait on the window is at once;
//   - matching both ErrCancelled and context.Canceled as soon as ctx is
//     cancelled.
//
// A nil error means admitted, even if ctx ended at the same moment. Many
// goroutines may wait at once; those waiting for a concurrency slot poll
// every 0.1 to 10 ms.
func (r *RateLimiter) Acquire(ctx context.Context, key string, tokens uint64) error {
	if r.h == 0 {
		return errRateLimiterClosed
	}
	defer runtime.KeepAlive(r)
	return withContext(ctx, func(cancel uintptr, timeoutMs int64) *raw.Failure {
		return raw.Ratelimiter_acquire(r.h, key, tokens, timeoutMs, cancel)
	})
}

// Release gives back the concurrency slot of an admitted request for key,
// or returns an error matching ErrNotFound when key holds none.
func (r *RateLimiter) Release(key string) error {
	if r.h == 0 {
		return errRateLimiterClosed
	}
	defer runtime.KeepAlive(r)
	return check(raw.Ratelimiter_release(r.h, key))
}

// Reconcile settles a request for key admitted with an estimate of reserved
// tokens that used actual: it refunds the difference, never beyond the
// burst, or charges the excess.
func (r *RateLimiter) Reconcile(key string, reserved, actual uint64) error {
	if r.h == 0 {
		return errRateLimiterClosed
	}
	defer runtime.KeepAlive(r)
	return check(raw.Ratelimiter_reconcile(r.h, key, reserved, actual))
}

// RateLimiterStats are a rate limiter's counters, as Stat names them.
type RateLimiterStats struct {
	Allowed       uint64 // "allowed": admissions so far (Check, and Acquire's tries)
	Limited       uint64 // "limited": refusals so far, each try of a waiting Acquire counting
	Keys          uint64 // "keys": keys with state
	Bytes         uint64 // "bytes": memory held for them
	BackendErrors uint64 // "backend_errors": failed calls to a remote backend
}

// Stats returns every counter. They are read one after the other, so while
// other goroutines use r they need not agree with each other exactly.
func (r *RateLimiter) Stats() (RateLimiterStats, error) {
	var s RateLimiterStats
	for _, c := range []struct {
		name string
		v    *uint64
	}{{"allowed", &s.Allowed}, {"limited", &s.Limited}, {"keys", &s.Keys}, {"bytes", &s.Bytes}, {"backend_errors", &s.BackendErrors}} {
		v, err := r.Stat(c.name)
		if err != nil {
			return RateLimiterStats{}, err
		}
		*c.v = v
	}
	return s, nil
}

// Stat returns one counter by its C name ("allowed", "limited", "keys",
// "bytes", "backend_errors"), or an error matching ErrNotFound.
func (r *RateLimiter) Stat(name string) (uint64, error) {
	if r.h == 0 {
		return 0, errRateLimiterClosed
	}
	if err := checkName("statistic", name); err != nil {
		return 0, err
	}
	defer runtime.KeepAlive(r)
	var v uint64
	if err := check(raw.Ratelimiter_stat(r.h, name, &v)); err != nil {
		return 0, err
	}
	return v, nil
}
