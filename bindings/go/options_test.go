package llmkit

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func newOptions(t *testing.T) *Options {
	t.Helper()
	o, err := NewOptions()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// wantError checks err is an *Error with status and a message containing part.
func wantError(t *testing.T, err error, status Status, part string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *Error with status %s", err, status)
	}
	if e.Status != status || !strings.Contains(e.Message, part) {
		t.Errorf("got %s %q, want %s containing %q", e.Status, e.Message, status, part)
	}
}

func wantLen(t *testing.T, o *Options, want int) {
	t.Helper()
	if n, err := o.Len(); err != nil || n != want {
		t.Errorf("Len() = %d, %v; want %d", n, err, want)
	}
}

func TestSetGetOverwriteUnset(t *testing.T) {
	o := newOptions(t)
	wantLen(t, o, 0)
	for _, kv := range [][2]string{{"model", "gpt-4o-mini"}, {"cache.max_bytes", "1024"}, {"empty", ""}, {"model", "gpt-4o"}} {
		if err := o.Set(kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%q, %q): %v", kv[0], kv[1], err)
		}
	}
	wantLen(t, o, 3)
	for k, want := range map[string]string{"model": "gpt-4o", "cache.max_bytes": "1024", "empty": ""} {
		if got, err := o.Get(k); err != nil || got != want {
			t.Errorf("Get(%q) = %q, %v; want %q", k, got, err, want)
		}
	}
	if err := o.Unset("model"); err != nil {
		t.Fatal(err)
	}
	wantLen(t, o, 2)
	_, err := o.Get("model")
	wantError(t, err, StatusNotFound, "option 'model' is not set")
	wantError(t, o.Unset("model"), StatusNotFound, "option 'model' is not set")
}

func TestUnicodeValueRoundTrips(t *testing.T) {
	o := newOptions(t)
	const v = "héllo, 世界 🌍"
	if err := o.Set("greeting", v); err != nil {
		t.Fatal(err)
	}
	if got, err := o.Get("greeting"); err != nil || got != v {
		t.Errorf("Get = %q, %v; want %q", got, err, v)
	}
}

func TestCopyIsIndependent(t *testing.T) {
	o := newOptions(t)
	o.Set("model", "a")
	o.Set("retries", "3")
	c, err := o.Copy()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o.Set("model", "b")
	c.Unset("retries")
	c.Set("only.copy", "x")
	if got, _ := c.Get("model"); got != "a" {
		t.Errorf("copy sees model = %q after the original changed", got)
	}
	if got, _ := o.Get("retries"); got != "3" {
		t.Errorf("original lost retries = %q after the copy changed", got)
	}
	if _, err := o.Get("only.copy"); !errors.Is(err, ErrNotFound) {
		t.Errorf("original sees the copy's key: %v", err)
	}
	wantLen(t, o, 2)
	wantLen(t, c, 2)
}

func TestNotFoundMessage(t *testing.T) {
	o := newOptions(t)
	v, err := o.Get("missing")
	if v != "" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) = %q, %v; want ErrNotFound", v, err)
	}
	if e := err.(*Error); e.Message != "option 'missing' is not set" {
		t.Errorf("message = %q", e.Message)
	}
}

func TestInvalidArguments(t *testing.T) {
	o := newOptions(t)
	err := o.Set("Bad Key", "v")
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Set(Bad Key) = %v", err)
	}
	wantError(t, err, StatusInvalidArgument, "'Bad Key'")
	wantError(t, o.Set("model", "ok\xffno"), StatusInvalidArgument, "byte offset 2")
	// C would see only "model" and "ok": the binding refuses instead.
	wantError(t, o.Set("model\x00x", "v"), StatusInvalidArgument, "NUL byte at offset 5")
	wantError(t, o.Set("model", "ok\x00no"), StatusInvalidArgument, "byte offset 2")
	_, err = o.Get("model\x00x")
	wantError(t, err, StatusInvalidArgument, "NUL")
	wantLen(t, o, 0)
}

func TestUseAfterClose(t *testing.T) {
	o, err := NewOptions()
	if err != nil {
		t.Fatal(err)
	}
	o.Set("model", "m")
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, getErr := o.Get("model")
	_, lenErr := o.Len()
	_, copyErr := o.Copy()
	for name, err := range map[string]error{"Set": o.Set("model", "m"), "Get": getErr,
		"Unset": o.Unset("model"), "Len": lenErr, "Copy": copyErr} {
		t.Run(name, func(t *testing.T) { wantError(t, err, StatusInvalidArgument, "after Close") })
	}
}

// The finalizer frees what nobody closed; this must not crash or double free.
func TestFinalizerFreesUnclosed(t *testing.T) {
	for i := 0; i < 100; i++ {
		o, _ := NewOptions()
		o.Set("model", "m")
		if i%2 == 0 {
			o.Close()
		}
	}
	runtime.GC()
	runtime.GC()
}

// llmkit_last_error() is per OS thread and goroutines hop between threads:
// each goroutine must still get the message of its own failure.
func TestConcurrentErrorsKeepTheirMessage(t *testing.T) {
	const goroutines, rounds = 16, 500
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			o, err := NewOptions()
			if err != nil {
				t.Error(err)
				return
			}
			defer o.Close()
			for i := 0; i < rounds; i++ {
				key := fmt.Sprintf("missing-%d-%d", g, i)
				_, err := o.Get(key)
				want := fmt.Sprintf("NOT_FOUND: option '%s' is not set", key)
				if err == nil || err.Error() != want {
					t.Errorf("goroutine %d: got %v, want %s", g, err, want)
					return
				}
				bad := fmt.Sprintf("Bad Key %d %d", g, i)
				if err := o.Set(bad, "v"); !errors.Is(err, ErrInvalidArgument) ||
					!strings.Contains(err.Error(), "'"+bad+"'") {
					t.Errorf("goroutine %d: Set(%q) = %v", g, bad, err)
					return
				}
				if err := o.Set(key, "v"); err != nil {
					t.Errorf("goroutine %d: Set(%q) = %v", g, key, err)
					return
				}
				runtime.Gosched()
			}
		}(g)
	}
	wg.Wait()
}
