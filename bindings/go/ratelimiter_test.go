package llmkit

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"llmkit/internal/raw"
)

// limiterWith makes a rate limiter from option pairs and closes the options
// at once: the limiter must have copied them.
func limiterWith(kv ...string) (*RateLimiter, error) {
	o, err := NewOptions()
	if err != nil {
		return nil, err
	}
	defer o.Close()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := o.Set(kv[i], kv[i+1]); err != nil {
			return nil, err
		}
	}
	return NewRateLimiter(o)
}

func newLimiter(t *testing.T, kv ...string) *RateLimiter {
	t.Helper()
	r, err := limiterWith(kv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func mustCheck(t *testing.T, r *RateLimiter, key string, tokens uint64) Decision {
	t.Helper()
	d, err := r.Check(key, tokens)
	if err != nil {
		t.Fatalf("Check(%q, %d): %v", key, tokens, err)
	}
	return d
}

func wantAdmitted(t *testing.T, r *RateLimiter, key string, tokens uint64) Decision {
	t.Helper()
	d := mustCheck(t, r, key, tokens)
	if !d.Allowed || d.RetryAfter != 0 || d.NeverFits {
		t.Fatalf("Check(%q, %d) = %+v, want admitted", key, tokens, d)
	}
	return d
}

func wantRefused(t *testing.T, r *RateLimiter, key string, tokens uint64) Decision {
	t.Helper()
	d := mustCheck(t, r, key, tokens)
	if d.Allowed {
		t.Fatalf("Check(%q, %d) = %+v, want refused", key, tokens, d)
	}
	return d
}

// wantContextError checks an error caused by a context: it must match the
// llmkit sentinel and the context error given, and neither of the others.
func wantContextError(t *testing.T, err error, sentinel *Error, ctxErr error) {
	t.Helper()
	if !errors.Is(err, sentinel) || !errors.Is(err, ctxErr) {
		t.Fatalf("got %v; want one matching both %v and %v", err, sentinel, ctxErr)
	}
	for _, other := range []error{ErrCancelled, ErrTimeout, context.Canceled, context.DeadlineExceeded} {
		if other != sentinel && other != ctxErr && errors.Is(err, other) {
			t.Errorf("%v also matches %v", err, other)
		}
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != sentinel.Status || e.Message == "" {
		t.Errorf("errors.As(%v) gave %#v", err, e)
	}
}

// acquireAsync runs Acquire in a goroutine, once it can be seen to block.
func acquireAsync(r *RateLimiter, ctx context.Context, key string, tokens uint64) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- r.Acquire(ctx, key, tokens) }()
	return ch
}

// letBlock gives a goroutine time to reach its blocking call, and fails if
// it has returned instead.
func letBlock(t *testing.T, ch <-chan error) {
	t.Helper()
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-ch:
		t.Fatalf("Acquire returned %v without waiting", err)
	default:
	}
}

// 10 requests a minute: the burst (10) is admitted at once, counting down,
// then the next fits one interval (60 s / 10) after the start.
func TestRateLimiterAdmitsTheBurstThenSaysWhen(t *testing.T) {
	r := newLimiter(t, "requests", "10", "window", "60")
	for left := int64(9); left >= 0; left-- {
		d := wantAdmitted(t, r, "user-42", 0)
		if d.RemainingRequests != left || d.RemainingTokens != math.MaxInt64 {
			t.Errorf("remaining %d requests, %d tokens; want %d, MaxInt64 (no token limit)", d.RemainingRequests, d.RemainingTokens, left)
		}
	}
	for i := 0; i < 3; i++ {
		d := wantRefused(t, r, "user-42", 0)
		if d.NeverFits || d.RetryAfter > 6*time.Second || d.RetryAfter < 5900*time.Millisecond {
			t.Errorf("refused with %+v; want RetryAfter near 6s", d)
		}
		if d.RemainingRequests != 0 {
			t.Errorf("RemainingRequests = %d after refusal, want 0", d.RemainingRequests)
		}
	}
	wantAdmitted(t, r, "user-43", 0) // every key has its own limits
}

func TestRateLimiterTokensOverTheBurstNeverFit(t *testing.T) {
	r := newLimiter(t, "tokens", "1000", "window", "60")
	d := wantRefused(t, r, "k", 1001)
	if !d.NeverFits || d.RetryAfter != 0 || d.RemainingTokens != 1000 || d.RemainingRequests != math.MaxInt64 {
		t.Errorf("Check(1001 tokens) = %+v; want NeverFits, 1000 tokens left, no request limit", d)
	}
	err := r.Acquire(context.Background(), "k", 1001)
	wantError(t, err, StatusRateLimited, "1001 tokens exceed the burst")
	if !errors.Is(err, ErrRateLimited) {
		t.Errorf("errors.Is(%v, ErrRateLimited) = false", err)
	}

	if d := wantAdmitted(t, r, "k", 1000); d.RemainingTokens != 0 {
		t.Errorf("RemainingTokens = %d after taking the burst, want 0", d.RemainingTokens)
	}
	// One token fits again after 60 s / 1000, not never.
	if d := wantRefused(t, r, "k", 1); d.NeverFits || d.RetryAfter <= 0 || d.RetryAfter > 60*time.Millisecond {
		t.Errorf("Check(1 token) on an empty bucket = %+v; want RetryAfter in (0, 60ms]", d)
	}
	_, err = r.Check("k", 1<<40)
	wantError(t, err, StatusInvalidArgument, "tokens is too large")
}

func TestRateLimiterConcurrencySlotHeldUntilRelease(t *testing.T) {
	r := newLimiter(t, "concurrency", "2")
	wantError(t, r.Release("k"), StatusNotFound, "holds no concurrency slot")
	d := wantAdmitted(t, r, "k", 0)
	if d.RemainingRequests != math.MaxInt64 || d.RemainingTokens != math.MaxInt64 {
		t.Errorf("remaining %+v; want MaxInt64 for both (only concurrency is limited)", d)
	}
	wantAdmitted(t, r, "k", 0)
	if d := wantRefused(t, r, "k", 0); d.RetryAfter != 0 || d.NeverFits {
		t.Errorf("third request in flight = %+v; want RetryAfter 0 (only concurrency refused it)", d)
	}
	if err := r.Release("k"); err != nil {
		t.Fatal(err)
	}
	wantAdmitted(t, r, "k", 0)
	for i := 0; i < 2; i++ {
		if err := r.Release("k"); err != nil {
			t.Fatalf("Release %d of 2: %v", i+1, err)
		}
	}
	if err := r.Release("k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Release with no slot held = %v, want ErrNotFound", err)
	}
}

// 1000 tokens an hour: no token refills during the test, so every count is
// exact.
func TestRateLimiterReconcileRefundsTokens(t *testing.T) {
	r := newLimiter(t, "tokens", "1000", "window", "3600")
	remaining := func() int64 { return wantAdmitted(t, r, "k", 0).RemainingTokens }
	if d := wantAdmitted(t, r, "k", 800); d.RemainingTokens != 200 {
		t.Fatalf("RemainingTokens = %d after 800, want 200", d.RemainingTokens)
	}
	if err := r.Reconcile("k", 800, 300); err != nil {
		t.Fatal(err)
	}
	if got := remaining(); got != 700 {
		t.Errorf("after refunding 500: %d tokens left, want 700", got)
	}
	if err := r.Reconcile("k", 0, 100); err != nil {
		t.Fatal(err)
	}
	if got := remaining(); got != 600 {
		t.Errorf("after charging 100 more: %d tokens left, want 600", got)
	}
	if err := r.Reconcile("k", 5000, 0); err != nil {
		t.Fatal(err)
	}
	if got := remaining(); got != 1000 {
		t.Errorf("after refunding 5000: %d tokens left, want the burst, 1000", got)
	}
}

func TestRateLimiterAcquireWaitsForAReleasedSlot(t *testing.T) {
	r := newLimiter(t, "concurrency", "1")
	wantAdmitted(t, r, "k", 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ch := acquireAsync(r, ctx, "k", 0)
	letBlock(t, ch)
	if err := r.Release("k"); err != nil {
		t.Fatal(err)
	}
	if err := <-ch; err != nil {
		t.Fatalf("Acquire after the slot was released: %v", err)
	}
	if err := r.Release("k"); err != nil { // the slot Acquire took
		t.Fatal(err)
	}
}

// A wait for tokens to refill: 1000 a minute, all taken, so 2 more come
// after 120 ms.
func TestRateLimiterAcquireWaitsForTokens(t *testing.T) {
	r := newLimiter(t, "tokens", "1000", "window", "60")
	wantAdmitted(t, r, "k", 1000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if err := r.Acquire(ctx, "k", 2); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("2 tokens at 60 ms each came after %v", waited)
	}
}

// Cancelling ctx ends Acquire at once, whether it waits for the window (an
// hour away) or polls for a concurrency slot, and charges nothing.
func TestRateLimiterAcquireCancelled(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []string
	}{{"window", []string{"requests", "1", "window", "3600"}}, {"slot", []string{"concurrency", "1"}}} {
		t.Run(c.name, func(t *testing.T) {
			r := newLimiter(t, c.opts...)
			wantAdmitted(t, r, "k", 0)
			ctx, cancel := context.WithCancel(context.Background()) // no deadline
			ch := acquireAsync(r, ctx, "k", 0)
			letBlock(t, ch)
			start := time.Now()
			cancel()
			err := <-ch
			if took := time.Since(start); took > 500*time.Millisecond {
				t.Errorf("Acquire returned %v after cancel", took)
			}
			wantContextError(t, err, ErrCancelled, context.Canceled)
			if c.name == "slot" {
				if err := r.Release("k"); err != nil {
					t.Fatal(err)
				}
				if err := r.Release("k"); !errors.Is(err, ErrNotFound) {
					t.Errorf("the cancelled Acquire holds a slot: Release = %v", err)
				}
			}
		})
	}
}

func TestRateLimiterAcquireDeadline(t *testing.T) {
	t.Run("known at once", func(t *testing.T) {
		r := newLimiter(t, "requests", "1", "window", "60")
		wantAdmitted(t, r, "k", 0)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := r.Acquire(ctx, "k", 0)
		if took := time.Since(start); took > time.Second {
			t.Errorf("Acquire took %v to see that a minute is past a 5s deadline", took)
		}
		wantContextError(t, err, ErrTimeout, context.DeadlineExceeded)
		wantError(t, err, StatusTimeout, "only after the deadline")
	})
	t.Run("slot", func(t *testing.T) {
		r := newLimiter(t, "concurrency", "1")
		wantAdmitted(t, r, "k", 0)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := r.Acquire(ctx, "k", 0)
		// C polls for a slot at most 10 ms apart, and gives up as soon as
		// its next poll would come after the deadline.
		if took := time.Since(start); took < 35*time.Millisecond || took > 5*time.Second {
			t.Errorf("Acquire with a 50ms deadline returned after %v", took)
		}
		wantContextError(t, err, ErrTimeout, context.DeadlineExceeded)
	})
	// C waits past ctx's deadline (its own timeout is longer here), so the
	// watcher cancels it at the deadline: still a timeout, not a cancel.
	t.Run("watcher", func(t *testing.T) {
		r := newLimiter(t, "concurrency", "1")
		wantAdmitted(t, r, "k", 0)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := withContext(ctx, func(c uintptr, _ int64) *raw.Failure {
			return raw.Ratelimiter_acquire(r.h, "k", 0, maxTimeoutMs, c)
		})
		if took := time.Since(start); took < 50*time.Millisecond || took > 5*time.Second {
			t.Errorf("returned after %v, want at the 50ms deadline", took)
		}
		wantContextError(t, err, ErrTimeout, context.DeadlineExceeded)
		wantError(t, err, StatusTimeout, "the deadline passed while waiting")
	})
}

// A context that has already ended fails without trying: nothing is counted.
func TestRateLimiterAcquireWithEndedContext(t *testing.T) {
	r := newLimiter(t, "requests", "5")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	wantContextError(t, r.Acquire(cancelled, "k", 0), ErrCancelled, context.Canceled)
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	wantContextError(t, r.Acquire(expired, "k", 0), ErrTimeout, context.DeadlineExceeded)
	if s, err := r.Stats(); err != nil || s.Allowed != 0 || s.Limited != 0 {
		t.Errorf("Stats() = %+v, %v; want nothing tried", s, err)
	}
}

func TestNewRateLimiterRejectsBadOptions(t *testing.T) {
	for _, c := range []struct {
		opts   []string
		status Status
		part   string
	}{
		{nil, StatusInvalidArgument, "needs at least one of 'requests', 'tokens' or 'concurrency'"},
		{[]string{"requests", "1", "colour", "red"}, StatusInvalidArgument, "unknown option 'colour'"},
		{[]string{"requests", "ten"}, StatusInvalidArgument, "option 'requests' must be an integer"},
		{[]string{"requests", "1", "window", "0"}, StatusInvalidArgument, "option 'window' must be 1 second to 1 year"},
		{[]string{"requests", "1", "backend", "shm"}, StatusInvalidArgument, "needs option 'shm.name'"},
		{[]string{"requests", "1", "backend", "redis", "redis.url", "http://x"}, StatusInvalidArgument, "invalid redis URL"},
	} {
		r, err := limiterWith(c.opts...)
		if r != nil {
			t.Errorf("options %q made a limiter", c.opts)
		}
		wantError(t, err, c.status, c.part)
	}
	_, err := NewRateLimiter(nil)
	wantError(t, err, StatusInvalidArgument, "not nil")
	o := newOptions(t)
	o.Set("requests", "1")
	o.Close()
	_, err = NewRateLimiter(o)
	wantError(t, err, StatusInvalidArgument, "used after Close")
}

// Keys are bytes: NULs are not cut off, invalid UTF-8 and "" are keys.
func TestRateLimiterKeysAreBytes(t *testing.T) {
	r := newLimiter(t, "requests", "1", "window", "3600")
	keys := []string{"", "a", "a\x00b", "a\x00c", "\x00", "\x00\x00", "\xff\xfe"}
	for _, k := range keys {
		wantAdmitted(t, r, k, 0)
	}
	for _, k := range keys {
		wantRefused(t, r, k, 0)
	}
	if n, err := r.Stat("keys"); err != nil || n != uint64(len(keys)) {
		t.Errorf("Stat(keys) = %d, %v; want %d", n, err, len(keys))
	}

	slots := newLimiter(t, "concurrency", "1")
	wantAdmitted(t, slots, "\x00", 0)
	wantAdmitted(t, slots, "", 0)
	if err := slots.Release("\x00\x00"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Release of a key never admitted = %v", err)
	}
	for _, k := range []string{"\x00", ""} {
		if err := slots.Release(k); err != nil {
			t.Errorf("Release(%q): %v", k, err)
		}
	}
}

func TestRateLimiterStats(t *testing.T) {
	r := newLimiter(t, "requests", "2", "window", "3600")
	for i := 0; i < 5; i++ {
		r.Check("a", 0) // 2 admitted, 3 refused
	}
	wantAdmitted(t, r, "b", 0)
	s, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Allowed != 3 || s.Limited != 3 || s.Keys != 2 || s.Bytes == 0 || s.BackendErrors != 0 {
		t.Errorf("Stats() = %+v; want 3 allowed, 3 limited, 2 keys, some bytes, no backend errors", s)
	}
	if n, err := r.Stat("limited"); err != nil || n != 3 {
		t.Errorf("Stat(limited) = %d, %v", n, err)
	}
	_, err = r.Stat("hits")
	wantError(t, err, StatusNotFound, "known: allowed, limited, keys, bytes, backend_errors")
	_, err = r.Stat("allowed\x00")
	wantError(t, err, StatusInvalidArgument, "NUL byte at offset 7")
}

// Many goroutines on one key: 50 an hour with a burst of 50 admits exactly
// 50 while the test runs (the next would come 72 s later).
func TestRateLimiterIsExactUnderContention(t *testing.T) {
	r := newLimiter(t, "requests", "50", "window", "3600")
	const goroutines, tries = 8, 200
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < tries; i++ {
				d, err := r.Check("hot", 1)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 50 {
		t.Errorf("%d admitted, want exactly 50", n)
	}
	if s, err := r.Stats(); err != nil || s.Allowed != 50 || s.Limited != goroutines*tries-50 {
		t.Errorf("Stats() = %+v, %v", s, err)
	}
}

// Many goroutines taking turns for 3 concurrency slots with Acquire: never
// more than 3 in flight, and every one gets its turn.
func TestRateLimiterConcurrencyUnderContention(t *testing.T) {
	r := newLimiter(t, "concurrency", "3")
	const goroutines, turns = 8, 30
	var inFlight, most atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < turns; i++ {
				if err := r.Acquire(ctx, "hot", 0); err != nil {
					t.Error(err)
					return
				}
				n := inFlight.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(50 * time.Microsecond) // hold the slot a moment
				inFlight.Add(-1)                  // before Release, or a new holder counts too early
				if err := r.Release("hot"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if m := most.Load(); m > 3 {
		t.Errorf("%d requests in flight at once, limit 3", m)
	}
	if n, err := r.Stat("allowed"); err != nil || n != goroutines*turns {
		t.Errorf("Stat(allowed) = %d, %v; want %d", n, err, goroutines*turns)
	}
}

func TestRateLimiterUseAfterClose(t *testing.T) {
	r := newLimiter(t, "requests", "1")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := r.Check("k", 0)
	wantError(t, err, StatusInvalidArgument, "RateLimiter used after Close")
	wantError(t, r.Acquire(context.Background(), "k", 0), StatusInvalidArgument, "used after Close")
	wantError(t, r.Release("k"), StatusInvalidArgument, "used after Close")
	wantError(t, r.Reconcile("k", 1, 0), StatusInvalidArgument, "used after Close")
	_, err = r.Stat("allowed")
	wantError(t, err, StatusInvalidArgument, "used after Close")
	_, err = r.Stats()
	wantError(t, err, StatusInvalidArgument, "used after Close")
}

func BenchmarkRateLimiterCheck(b *testing.B) {
	r, err := limiterWith("requests", "1000000000", "window", "1")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Check("user-42", 0)
		}
	})
}
