// Package llmkit is the Go binding of llmkit, a C library for LLM provider
// calls, caching, rate limits, token counting and cost tracking.
//
// Every failing call returns an *Error carrying the library's status and
// message; compare with errors.Is(err, llmkit.ErrNotFound) and friends.
package llmkit

import "llmkit/internal/raw"

// Version is the version of the loaded shared library, "MAJOR.MINOR.PATCH".
func Version() string { return raw.Version() }

// Status is the outcome of a library call; values match llmkit_status.
type Status int

const (
	StatusOK Status = iota
	StatusInvalidArgument
	StatusNotFound
	StatusRateLimited
	StatusTimeout
	StatusNetwork
	StatusProviderError
	StatusAuth
	StatusCancelled
	StatusOutOfMemory
	StatusInternal
	StatusUnsupported
	StatusBudgetExceeded
	StatusQueueFull
	StatusUnavailable
	StatusOverloaded
)

// String is the library's constant name for s, e.g. "NOT_FOUND".
func (s Status) String() string { return raw.Status_str(int(s)) }

// Error is a failed call: its status and the library's message.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Status.String()
	}
	return e.Status.String() + ": " + e.Message
}

// Is matches any *Error with the same Status, so that the sentinels below
// work with errors.Is whatever the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status
}

// Sentinels for errors.Is, one per failing status.
var (
	ErrInvalidArgument = &Error{Status: StatusInvalidArgument}
	ErrNotFound        = &Error{Status: StatusNotFound}
	ErrRateLimited     = &Error{Status: StatusRateLimited}
	ErrTimeout         = &Error{Status: StatusTimeout}
	ErrNetwork         = &Error{Status: StatusNetwork}
	ErrProviderError   = &Error{Status: StatusProviderError}
	ErrAuth            = &Error{Status: StatusAuth}
	ErrCancelled       = &Error{Status: StatusCancelled}
	ErrOutOfMemory     = &Error{Status: StatusOutOfMemory}
	ErrInternal        = &Error{Status: StatusInternal}
	ErrUnsupported     = &Error{Status: StatusUnsupported}
	ErrBudgetExceeded  = &Error{Status: StatusBudgetExceeded}
	ErrQueueFull       = &Error{Status: StatusQueueFull}
	ErrUnavailable     = &Error{Status: StatusUnavailable}
	ErrOverloaded      = &Error{Status: StatusOverloaded}
)

// check turns a raw failure into an error; nil stays nil (not a typed nil).
func check(f *raw.Failure) error {
	if f == nil {
		return nil
	}
	return &Error{Status: Status(f.Status), Message: f.Message}
}
