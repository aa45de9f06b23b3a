package llmkit

import (
	"context"
	"errors"
	"math"
	"time"

	"llmkit/internal/raw"
)

// A C call cannot be interrupted from Go, so a blocking call takes its
// context.Context to C in two pieces: the deadline as the call's own
// timeout, and the end of the context as an llmkit_cancel that a watching
// goroutine triggers, which makes the call return LLMKIT_CANCELLED at once.

// maxTimeoutMs is the longest timeout llmkit accepts, in ms (INT64_MAX
// nanoseconds / 4: about 73 years); it stands for "no deadline".
const maxTimeoutMs = math.MaxInt64 / 4_000_000

// timeoutMs is the time left until ctx's deadline, in whole ms rounded up so
// that C never gives up before the deadline: the watcher ends the call at the
// deadline itself.
func timeoutMs(ctx context.Context) int64 {
	deadline, ok := ctx.Deadline()
	if !ok {
		return maxTimeoutMs
	}
	left := time.Until(deadline)
	if left <= 0 {
		return 0
	}
	ms := (int64(left) + 999_999) / 1_000_000
	if ms > maxTimeoutMs {
		return maxTimeoutMs
	}
	return ms
}

// withContext runs call, a C call that may block, with the cancel handle ctx
// triggers (0 when ctx can never end) and the timeout its deadline leaves.
// When ctx is why call failed, the error matches ctx's error too. A context
// that has already ended fails without calling C.
func withContext(ctx context.Context, call func(cancel uintptr, timeoutMs int64) *raw.Failure) error {
	return runWithContext(ctx, true, call)
}

// callWithContext runs call, a C call that may block, with the cancel handle
// ctx triggers: for calls that take no timeout from ctx (provider calls,
// whose own TIMEOUT, a provider's 504 say, is not ctx's deadline), so that
// only ctx's end is reported as ctx's error.
func callWithContext(ctx context.Context, call func(cancel uintptr) *raw.Failure) error {
	return runWithContext(ctx, false, func(cancel uintptr, _ int64) *raw.Failure { return call(cancel) })
}

// runWithContext is withContext; timeoutIsDeadline says whether call takes
// ctx's deadline as its timeout, so that its TIMEOUT is ctx's deadline.
func runWithContext(ctx context.Context, timeoutIsDeadline bool, call func(cancel uintptr, timeoutMs int64) *raw.Failure) error {
	if err := ctx.Err(); err != nil {
		return &ctxError{err: &Error{Status: statusOf(err), Message: "the context had ended before the call"}, cause: err}
	}
	done := ctx.Done()
	if done == nil { // context.Background(): it neither ends nor has a deadline
		return check(call(0, maxTimeoutMs))
	}
	var cancel uintptr
	if err := check(raw.Cancel_new(&cancel)); err != nil {
		return err
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-done:
			raw.Cancel_trigger(cancel)
		case <-stop:
		}
	}()
	f := call(cancel, timeoutMs(ctx))
	close(stop)
	// Only once the watcher is gone may the signal be freed: it may be in
	// the middle of triggering it.
	<-stopped
	raw.Cancel_free(cancel)

	err := check(f)
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	_, hasDeadline := ctx.Deadline()
	switch {
	case e.Status == StatusTimeout && hasDeadline && timeoutIsDeadline:
		// C saw that the wait outlasts the timeout, which is the deadline,
		// and said so at once, maybe before ctx itself knows.
		return &ctxError{err: e, cause: context.DeadlineExceeded}
	case e.Status == StatusCancelled && ctx.Err() != nil:
		cause := ctx.Err()
		if statusOf(cause) == StatusTimeout { // the watcher fired at the deadline
			e = &Error{Status: StatusTimeout, Message: "the deadline passed while waiting"}
		}
		return &ctxError{err: e, cause: cause}
	}
	return err
}

// statusOf is the llmkit status of a context's error.
func statusOf(ctxErr error) Status {
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		return StatusTimeout
	}
	return StatusCancelled
}

// ctxError is an *Error that a context caused: errors.Is matches both its
// status's sentinel (ErrCancelled, ErrTimeout) and the context's error
// (context.Canceled, context.DeadlineExceeded), and errors.As finds the
// *Error. (Go 1.19 has no errors.Join.)
type ctxError struct {
	err   *Error
	cause error
}

func (e *ctxError) Error() string { return e.err.Error() + ": " + e.cause.Error() }

func (e *ctxError) Unwrap() error { return e.err }

func (e *ctxError) Is(target error) bool { return errors.Is(e.cause, target) }

// Timeout reports whether the deadline is why, as net.Error's does.
func (e *ctxError) Timeout() bool { return e.err.Status == StatusTimeout }
