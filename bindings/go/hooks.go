package llmkit

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"llmkit/internal/raw"
)

// HookKind says when a hook runs; values match llmkit_hook_kind.
type HookKind int

const (
	HookBefore  HookKind = iota // before the provider call: may change, answer or reject it
	HookAfter                   // after a call that succeeded
	HookError                   // after a call that failed (a rejection too)
	HookFinally                 // after every call, once, last
)

var hookKindNames = [...]string{"before", "after", "error", "finally"}

// String is "before", "after", "error" or "finally".
func (k HookKind) String() string {
	if k >= 0 && int(k) < len(hookKindNames) {
		return hookKindNames[k]
	}
	return fmt.Sprintf("HookKind(%d)", int(k))
}

// HookFlags change how a hook runs.
type HookFlags uint

// HookAsync runs the hook on the set's own thread, fed through a bounded
// queue, on a read-only copy of the event: slow work adds nothing to the
// call.
const HookAsync HookFlags = 1

// HookFunc is a hook. The error it returns (or a panic) counts as the
// hook's failure, with the error's text as its message
// (HookStats.LastError); it never fails the call. It runs inside a C
// call, so it must not call runtime.Goexit (t.FailNow, t.Fatal in a test).
type HookFunc func(*HookEvent) error

// PredicateFunc is a rule's pred:NAME. An error (or a panic) fails the
// rule: the hook is skipped and the failure counted in RuleFailures.
type PredicateFunc func(*HookEvent) (bool, error)

// HookStats are a hook's counters (docs/hooks.md, "Stats").
type HookStats struct {
	Calls        int64 // runs (the rule matched)
	Skipped      int64 // the rule did not match
	Errors       int64 // the hook failed
	RuleFailures int64 // its rule's predicate failed: not run
	Dropped      int64 // async: the queue was full
	Slow         int64 // runs longer than "slow_ms"
	Total        time.Duration
	Max          time.Duration
	// LastError is the message of the last failure ("" when none).
	LastError string
}

// Hooks is a set of hooks: callbacks that run around the calls of the
// clients it is attached to (Client.SetHooks; several clients may share
// one), chosen by kind, scope and a rule compiled once (docs/hooks.md).
// Its methods are safe for concurrent use, also while calls run, except
// Close.
//
// Call Close when done; a finalizer closes it otherwise, later. Clients
// attached keep running the hooks after Close: the set and its Go
// functions are let go when it is closed and no client is attached any
// more (each detached by SetHooks(nil), another SetHooks or Close), and
// the async hooks still queued run then, before that returns.
type Hooks struct {
	h uintptr // the C llmkit_hooks*; 0 once let go

	mu       sync.Mutex
	closed   bool
	attached int       // clients attached
	funcs    []uintptr // ids of its hooks' and predicates' functions
}

var errHooksClosed = &Error{Status: StatusInvalidArgument, Message: "llmkit: Hooks used after Close (or not made by NewHooks)"}

// NewHooks returns an empty set. opts (nil for none): "queue_size" (the
// async hooks' queue, default 10000), "queue_full" ("drop", the default,
// or "block"), "slow_ms" (a run longer is counted slow, default 100).
func NewHooks(opts *Options) (*Hooks, error) {
	o, err := optionsHandle(opts)
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(opts)
	var h uintptr
	if err := check(raw.Hooks_new(o, &h)); err != nil {
		return nil, err
	}
	hooks := &Hooks{h: h}
	runtime.SetFinalizer(hooks, (*Hooks).Close)
	return hooks, nil
}

// handle is the C set, or an error once closed.
func (h *Hooks) handle() (uintptr, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, errHooksClosed
	}
	return h.h, nil
}

// Add registers fn after every other hook and returns its id. scope ""
// is global (every client); a named one runs only for clients with it in
// their "scopes" option. rule "" matches every call; one that does not
// compile gives an error matching ErrInvalidArgument naming the column.
func (h *Hooks) Add(kind HookKind, scope, rule string, flags HookFlags, fn HookFunc) (uint64, error) {
	if fn == nil {
		return 0, &Error{StatusInvalidArgument, "llmkit: Hooks.Add needs a function, not nil"}
	}
	if err := checkName("scope", scope); err != nil {
		return 0, err
	}
	if err := checkName("rule", rule); err != nil {
		return 0, err
	}
	var id uint64
	err := h.register(fn, func(hooks, f uintptr) *raw.Failure {
		return raw.Hooks_add(hooks, int(kind), scope, rule, uint(flags), uint(f), &id)
	})
	return id, err
}

// AddPredicate registers fn as pred:NAME for the rules added after it.
// name is a word of letters, digits, '_', '-' or '.'; one taken gives an
// error matching ErrInvalidArgument.
func (h *Hooks) AddPredicate(name string, fn PredicateFunc) error {
	if fn == nil {
		return &Error{StatusInvalidArgument, "llmkit: Hooks.AddPredicate needs a function, not nil"}
	}
	if err := checkName("predicate name", name); err != nil {
		return err
	}
	return h.register(fn, func(hooks, f uintptr) *raw.Failure {
		return raw.Hooks_add_predicate(hooks, name, uint(f))
	})
}

// register keeps fn for C under a new id while add gives it to C.
func (h *Hooks) register(fn any, add func(hooks, f uintptr) *raw.Failure) error {
	hooks, err := h.handle()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	f := hookFuncs.add(fn)
	if err := check(add(hooks, f)); err != nil {
		hookFuncs.remove(f)
		return err
	}
	h.mu.Lock()
	h.funcs = append(h.funcs, f)
	h.mu.Unlock()
	return nil
}

// Remove removes the hook id; its async events already queued still run.
// An unknown id gives an error matching ErrNotFound.
func (h *Hooks) Remove(id uint64) error {
	hooks, err := h.handle()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	return check(raw.Hooks_remove(hooks, id))
}

// Flush waits until every async event queued so far has run. Not from a
// hook.
func (h *Hooks) Flush() error {
	hooks, err := h.handle()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	return check(raw.Hooks_flush(hooks))
}

// Stats returns the counters of hook id; an unknown id gives an error
// matching ErrNotFound.
func (h *Hooks) Stats(id uint64) (HookStats, error) {
	hooks, err := h.handle()
	if err != nil {
		return HookStats{}, err
	}
	defer runtime.KeepAlive(h)
	var s HookStats
	for _, c := range []struct {
		name string
		to   *int64
	}{
		{"calls", &s.Calls}, {"skipped", &s.Skipped}, {"errors", &s.Errors},
		{"rule_failures", &s.RuleFailures}, {"dropped", &s.Dropped}, {"slow", &s.Slow},
	} {
		var v int64 // not c.to: cgo checks the whole Go object an out-parameter points into
		if err := check(raw.Hooks_stat(hooks, id, c.name, &v)); err != nil {
			return HookStats{}, err
		}
		*c.to = v
	}
	var total, max int64
	raw.Hooks_stat(hooks, id, "total_us", &total)
	raw.Hooks_stat(hooks, id, "max_us", &max)
	s.Total, s.Max = time.Duration(total)*time.Microsecond, time.Duration(max)*time.Microsecond
	var last string
	if err := check(raw.Hooks_last_error(hooks, id, &last)); err != nil {
		return HookStats{}, err
	}
	s.LastError = last
	return s, nil
}

// Close closes the set: any later use but Close returns an error matching
// ErrInvalidArgument. When no client is attached it lets go of the set at
// once, running the async hooks still queued first; otherwise the last
// client to detach does. Closing twice is harmless. Not from a hook.
func (h *Hooks) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	last := h.attached == 0
	h.mu.Unlock()
	runtime.SetFinalizer(h, nil)
	if last {
		h.release()
	}
	return nil
}

// attach counts a client in, and returns the C set for it.
func (h *Hooks) attach() (uintptr, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, errHooksClosed
	}
	h.attached++
	return h.h, nil
}

// detach counts a client out, once C no longer holds the set for it.
func (h *Hooks) detach() {
	h.mu.Lock()
	h.attached--
	last := h.closed && h.attached == 0
	h.mu.Unlock()
	if last {
		h.release()
	}
}

// release lets go of the C set, then of the Go functions: the set is no
// longer reachable from a client, and freeing it runs the async hooks still
// queued (unless a call that began before holds it: its hooks that run
// later find their functions gone and fail, counted). No lock is held
// while it runs them.
func (h *Hooks) release() {
	raw.Hooks_free(h.h)
	h.mu.Lock()
	h.h = 0
	funcs := h.funcs
	h.funcs = nil
	h.mu.Unlock()
	for _, f := range funcs {
		hookFuncs.remove(f)
	}
}

// SetHooks attaches hooks to c for the calls that start from now on; nil
// detaches them. Calls already running keep the hooks they began with.
// Closed hooks give an error matching ErrInvalidArgument.
func (c *Client) SetHooks(hooks *Hooks) error {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	if c.h == 0 {
		return errClientClosed
	}
	defer runtime.KeepAlive(c)
	var set uintptr
	if hooks != nil {
		var err error
		if set, err = hooks.attach(); err != nil {
			return err
		}
	}
	if err := check(raw.Client_set_hooks(c.h, set)); err != nil {
		if hooks != nil {
			hooks.detach()
		}
		return err
	}
	old := c.hooks
	c.hooks = hooks
	if old != nil {
		old.detach()
	}
	return nil
}

// HookEvent is one call as a hook sees it, valid while the hook runs:
// afterwards its getters return zero values and its changes an error
// matching ErrInvalidArgument.
type HookEvent struct {
	e    uintptr // the C llmkit_hook_event*; 0 once the hook returned
	kind HookKind
}

var errEventOver = &Error{Status: StatusInvalidArgument, Message: "llmkit: HookEvent used after its hook returned"}

// Kind is the kind of the hook running.
func (e *HookEvent) Kind() HookKind { return e.kind }

// get is a text field, "" when there is none.
func (e *HookEvent) get(field string) (string, bool) {
	if e.e == 0 {
		return "", false
	}
	var s string
	return s, raw.Hook_event_get(e.e, field, &s) == nil
}

func (e *HookEvent) text(field string) string {
	s, _ := e.get(field)
	return s
}

// Provider is the client's provider ("openai", "anthropic" ...).
func (e *HookEvent) Provider() string { return e.text("provider") }

// Model is the model the call goes to, as the before hooks left it.
func (e *HookEvent) Model() string { return e.text("model") }

// Tags are the call's tags (the call option "tags").
func (e *HookEvent) Tags() []string {
	if t := e.text("tags"); t != "" {
		return strings.Split(t, ",")
	}
	return nil
}

// Meta is the call's metadata key (the call option "meta.KEY", or set by
// a before hook), and whether it is set.
func (e *HookEvent) Meta(key string) (string, bool) {
	if checkName("metadata key", key) != nil {
		return "", false
	}
	return e.get("meta." + key)
}

// Message is why the call failed (error and finally hooks); "" otherwise.
func (e *HookEvent) Message() string { return e.text("message") }

// Request is the JSON body the provider gets (no keys or headers).
func (e *HookEvent) Request() string { return e.text("request") }

func (e *HookEvent) number(field string) float64 {
	var v float64
	if e.e != 0 {
		raw.Hook_event_number(e.e, field, &v)
	}
	return v
}

// Status is the call's outcome (after, error and finally hooks).
func (e *HookEvent) Status() Status { return Status(e.number("status")) }

// Elapsed is the time since the call began.
func (e *HookEvent) Elapsed() time.Duration {
	return time.Duration(math.Round(e.number("elapsed_ms") * float64(time.Millisecond)))
}

// Cached says the answer came from the client's cache, as Response.Cached.
func (e *HookEvent) Cached() bool { return e.number("cached") == 1 }

// Cost is the answer's cost in US dollars, as Response.Cost, and whether
// there is one: false before or without an answer, or when the model has
// no price.
func (e *HookEvent) Cost() (float64, bool) {
	if e.e == 0 {
		return 0, false
	}
	if v := e.number("cost_usd"); v >= 0 {
		return v, true
	}
	return 0, false
}

// Response is the call's answer, copied (after hooks; error hooks when the
// provider answered), or nil.
func (e *HookEvent) Response() *Response {
	if e.e == 0 {
		return nil
	}
	if r := raw.Hook_event_response(e.e); r != 0 {
		return readResponse(r)
	}
	return nil
}

// change runs a change of the call: a synchronous before hook's only.
func (e *HookEvent) change(f func(ev uintptr) *raw.Failure, texts ...string) error {
	if e.e == 0 {
		return errEventOver
	}
	for _, t := range texts {
		if err := checkName("value", t); err != nil {
			return err
		}
	}
	return check(f(e.e))
}

// Set sets a request parameter for this call (the keys of
// llmkit_request_set: "model", "temperature", "max_tokens" ...).
func (e *HookEvent) Set(key, value string) error {
	return e.change(func(ev uintptr) *raw.Failure { return raw.Hook_event_set(ev, key, value) }, key, value)
}

// SetMeta sets the call's metadata key; the hooks after it see it.
func (e *HookEvent) SetMeta(key, value string) error {
	return e.change(func(ev uintptr) *raw.Failure { return raw.Hook_event_set_meta(ev, key, value) }, key, value)
}

// Answer answers the call with text in the provider's place: no request is
// sent, no later before hook runs, and the after hooks see the answer.
func (e *HookEvent) Answer(text string) error {
	return e.change(func(ev uintptr) *raw.Failure { return raw.Hook_event_answer(ev, text) }, text)
}

// Reject ends the call with status (not StatusOK) and message, which the
// call returns as its error; the error hooks run.
func (e *HookEvent) Reject(status Status, message string) error {
	return e.change(func(ev uintptr) *raw.Failure { return raw.Hook_event_reject(ev, int(status), message) }, message)
}

// hookFuncs holds the functions of every Hooks not let go, by the id C
// holds as user_data.
var hookFuncs = funcTable{m: map[uintptr]any{}}

type funcTable struct {
	mu   sync.Mutex
	last uintptr
	m    map[uintptr]any
}

func (t *funcTable) add(fn any) uintptr {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last++
	t.m[t.last] = fn
	return t.last
}

func (t *funcTable) get(id uintptr) any {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

func (t *funcTable) remove(id uintptr) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}

func init() {
	raw.RunHook = runHook
	raw.RunPredicate = runPredicate
}

// guarded runs f on an event for C, which f must not unwind: a panic is
// caught and returned as why.
func guarded(event uintptr, f func(*HookEvent) error) (err error) {
	e := &HookEvent{e: event, kind: HookKind(raw.Hook_event_kind(event))}
	returned := false // not recover() != nil: panic(nil) recovers nil
	defer func() {
		e.e = 0
		if !returned {
			err = fmt.Errorf("the hook panicked: %v", recover())
		}
	}()
	err = f(e)
	returned = true
	return err
}

// runHook is raw.RunHook: a hook's run, its error a failure with the
// error's status (StatusInternal for other errors) and text.
func runHook(id, event uintptr) (int, string) {
	fn, ok := hookFuncs.get(id).(HookFunc)
	if !ok {
		return int(StatusUnavailable), "the hook's function was let go: its Hooks is closed"
	}
	err := guarded(event, fn)
	if err == nil {
		return int(StatusOK), ""
	}
	status := StatusInternal
	var e *Error
	if errors.As(err, &e) && e.Status != StatusOK {
		status = e.Status
	}
	return int(status), err.Error()
}

// runPredicate is raw.RunPredicate: 1, 0, or -1 (the rule fails).
func runPredicate(id, event uintptr) int {
	fn, ok := hookFuncs.get(id).(PredicateFunc)
	if !ok {
		return -1
	}
	match := false
	err := guarded(event, func(e *HookEvent) (err error) {
		match, err = fn(e)
		return err
	})
	switch {
	case err != nil:
		return -1
	case match:
		return 1
	}
	return 0
}
