package llmkit

import (
	"fmt"
	"runtime"
	"strings"

	"llmkit/internal/raw"
)

// Options is a set of key/value settings handed to llmkit constructors.
// Keys are lower-case ASCII words joined by '.', '_' or '-'; values are
// UTF-8 strings. An Options may be read from several goroutines at once but
// not while it is being modified.
//
// Call Close when done; a finalizer frees it otherwise, later.
type Options struct {
	h uintptr // the C llmkit_options*; 0 once closed
}

var errClosed = &Error{Status: StatusInvalidArgument, Message: "llmkit: Options used after Close (or not made by NewOptions)"}

// checkKey and checkValue reject strings C would silently cut short at
// their first NUL byte. A value is not echoed: it may be a secret.
func checkKey(key string) error {
	if i := strings.IndexByte(key, 0); i >= 0 {
		return &Error{StatusInvalidArgument, fmt.Sprintf("invalid option key %q: NUL byte at offset %d", key, i)}
	}
	return nil
}

func checkValue(key, value string) error {
	if i := strings.IndexByte(value, 0); i >= 0 {
		return &Error{StatusInvalidArgument, fmt.Sprintf("value of option '%s' has a NUL byte (byte offset %d)", key, i)}
	}
	return nil
}

// NewOptions returns an empty option set.
func NewOptions() (*Options, error) {
	var h uintptr
	if err := check(raw.Options_new(&h)); err != nil {
		return nil, err
	}
	return wrapOptions(h), nil
}

func wrapOptions(h uintptr) *Options {
	o := &Options{h: h}
	runtime.SetFinalizer(o, (*Options).Close)
	return o
}

// Close frees the option set. Closing twice is harmless; any other use
// after Close returns an error matching ErrInvalidArgument.
func (o *Options) Close() error {
	if o.h != 0 {
		raw.Options_free(o.h)
		o.h = 0
		runtime.SetFinalizer(o, nil)
	}
	return nil
}

// Set sets key to value, replacing any previous value.
func (o *Options) Set(key, value string) error {
	if o.h == 0 {
		return errClosed
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkValue(key, value); err != nil {
		return err
	}
	// Without KeepAlive o could become unreachable, and its finalizer free
	// the handle, while C still uses it; the same holds in every method.
	defer runtime.KeepAlive(o)
	return check(raw.Options_set(o.h, key, value))
}

// Get returns the value of key, or an error matching ErrNotFound.
func (o *Options) Get(key string) (string, error) {
	if o.h == 0 {
		return "", errClosed
	}
	if err := checkKey(key); err != nil {
		return "", err
	}
	defer runtime.KeepAlive(o)
	var v string
	if err := check(raw.Options_get(o.h, key, &v)); err != nil {
		return "", err
	}
	return v, nil
}

// Unset removes key, or returns an error matching ErrNotFound.
func (o *Options) Unset(key string) error {
	if o.h == 0 {
		return errClosed
	}
	if err := checkKey(key); err != nil {
		return err
	}
	defer runtime.KeepAlive(o)
	return check(raw.Options_unset(o.h, key))
}

// Len returns the number of keys set.
func (o *Options) Len() (int, error) {
	if o.h == 0 {
		return 0, errClosed
	}
	defer runtime.KeepAlive(o)
	var n int
	if err := check(raw.Options_count(o.h, &n)); err != nil {
		return 0, err
	}
	return n, nil
}

// Copy returns an independent copy of the option set.
func (o *Options) Copy() (*Options, error) {
	if o.h == 0 {
		return nil, errClosed
	}
	defer runtime.KeepAlive(o)
	var h uintptr
	if err := check(raw.Options_copy(o.h, &h)); err != nil {
		return nil, err
	}
	return wrapOptions(h), nil
}
