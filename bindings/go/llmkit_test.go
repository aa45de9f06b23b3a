package llmkit

import (
	"errors"
	"fmt"
	"testing"

	"llmkit/internal/raw"
)

func TestVersionMatchesHeader(t *testing.T) {
	want := fmt.Sprintf("%d.%d.%d", raw.LLMKIT_VERSION_MAJOR, raw.LLMKIT_VERSION_MINOR, raw.LLMKIT_VERSION_PATCH)
	if want != raw.LLMKIT_VERSION_STRING {
		t.Fatalf("header pieces %q != LLMKIT_VERSION_STRING %q", want, raw.LLMKIT_VERSION_STRING)
	}
	if got := Version(); got != want {
		t.Errorf("Version() = %q, header says %q", got, want)
	}
	if got := raw.Version_number(); got != raw.LLMKIT_VERSION_NUMBER {
		t.Errorf("llmkit_version_number() = %d, header says %d", got, raw.LLMKIT_VERSION_NUMBER)
	}
}

func TestStatusMatchesC(t *testing.T) {
	cases := []struct {
		s    Status
		c    raw.Enum_SS_llmkit_status
		name string
		err  *Error
	}{
		{StatusOK, raw.LLMKIT_OK, "OK", nil},
		{StatusInvalidArgument, raw.LLMKIT_INVALID_ARGUMENT, "INVALID_ARGUMENT", ErrInvalidArgument},
		{StatusNotFound, raw.LLMKIT_NOT_FOUND, "NOT_FOUND", ErrNotFound},
		{StatusRateLimited, raw.LLMKIT_RATE_LIMITED, "RATE_LIMITED", ErrRateLimited},
		{StatusTimeout, raw.LLMKIT_TIMEOUT, "TIMEOUT", ErrTimeout},
		{StatusNetwork, raw.LLMKIT_NETWORK, "NETWORK", ErrNetwork},
		{StatusProviderError, raw.LLMKIT_PROVIDER_ERROR, "PROVIDER_ERROR", ErrProviderError},
		{StatusAuth, raw.LLMKIT_AUTH, "AUTH", ErrAuth},
		{StatusCancelled, raw.LLMKIT_CANCELLED, "CANCELLED", ErrCancelled},
		{StatusOutOfMemory, raw.LLMKIT_OUT_OF_MEMORY, "OUT_OF_MEMORY", ErrOutOfMemory},
		{StatusInternal, raw.LLMKIT_INTERNAL, "INTERNAL", ErrInternal},
		{StatusUnsupported, raw.LLMKIT_UNSUPPORTED, "UNSUPPORTED", ErrUnsupported},
		{StatusBudgetExceeded, raw.LLMKIT_BUDGET_EXCEEDED, "BUDGET_EXCEEDED", ErrBudgetExceeded},
		{StatusQueueFull, raw.LLMKIT_QUEUE_FULL, "QUEUE_FULL", ErrQueueFull},
		{StatusUnavailable, raw.LLMKIT_UNAVAILABLE, "UNAVAILABLE", ErrUnavailable},
		{StatusOverloaded, raw.LLMKIT_OVERLOADED, "OVERLOADED", ErrOverloaded},
	}
	for _, c := range cases {
		if int(c.s) != int(c.c) {
			t.Errorf("%s = %d, C says %d", c.name, c.s, c.c)
		}
		if got := c.s.String(); got != c.name {
			t.Errorf("Status(%d).String() = %q, want %q", c.s, got, c.name)
		}
		if c.err != nil && (c.err.Status != c.s || c.err.Error() != c.name) {
			t.Errorf("sentinel for %s is %#v", c.name, c.err)
		}
	}
	if got := Status(99).String(); got != "UNKNOWN" {
		t.Errorf("Status(99).String() = %q, want UNKNOWN", got)
	}
}

func TestErrorIsMatchesStatusOnly(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &Error{StatusNotFound, "option 'x' is not set"})
	if !errors.Is(err, ErrNotFound) {
		t.Error("errors.Is(NOT_FOUND error, ErrNotFound) = false")
	}
	if errors.Is(err, ErrInvalidArgument) {
		t.Error("errors.Is(NOT_FOUND error, ErrInvalidArgument) = true")
	}
	var e *Error
	if !errors.As(err, &e) || e.Message != "option 'x' is not set" {
		t.Errorf("errors.As gave %#v", e)
	}
	if got := e.Error(); got != "NOT_FOUND: option 'x' is not set" {
		t.Errorf("Error() = %q", got)
	}
}
