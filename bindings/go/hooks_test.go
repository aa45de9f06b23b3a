package llmkit

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// Hooks around calls to test/upstream/upstream.py (client_test.go starts it).

func newTestHooks(t *testing.T, kv ...string) *Hooks {
	t.Helper()
	var opts *Options
	if len(kv) > 0 {
		opts = optionsWith(t, kv...)
	}
	h, err := NewHooks(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func addHook(t *testing.T, h *Hooks, kind HookKind, scope, rule string, flags HookFlags, fn HookFunc) uint64 {
	t.Helper()
	id, err := h.Add(kind, scope, rule, flags, fn)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func hookedClient(t *testing.T, h *Hooks, kv ...string) *Client {
	t.Helper()
	c := newTestClient(t, "openai", kv...)
	if err := c.SetHooks(h); err != nil {
		t.Fatal(err)
	}
	return c
}

func stats(t *testing.T, h *Hooks, id uint64) HookStats {
	t.Helper()
	s, err := h.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHooksBeforeChangesTheModelAndAfterReadsTheAnswer(t *testing.T) {
	h := newTestHooks(t)
	var seen []string
	addHook(t, h, HookBefore, "", "model:m and tag:prod", 0, func(e *HookEvent) error {
		team, _ := e.Meta("team")
		seen = append(seen, strings.Join([]string{e.Kind().String(), e.Provider(), e.Model(), strings.Join(e.Tags(), "+"), team}, " "))
		if !strings.Contains(e.Request(), `"model":"m"`) {
			t.Errorf("request %s", e.Request())
		}
		if err := e.Set("model", "gpt-routed"); err != nil {
			return err
		}
		return e.SetMeta("routed", "yes")
	})
	var answer *Response
	addHook(t, h, HookAfter, "", "meta.routed:yes", 0, func(e *HookEvent) error {
		answer = e.Response()
		seen = append(seen, strings.Join([]string{e.Kind().String(), e.Model(), e.Status().String()}, " "))
		if e.Elapsed() <= 0 {
			t.Errorf("elapsed %v", e.Elapsed())
		}
		if err := e.Set("model", "x"); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("an after hook changed the call: %v", err)
		}
		return nil
	})
	c := hookedClient(t, h)
	res, err := c.Chat(context.Background(), hello(), optionsWith(t, "tags", "prod,beta", "meta.team", "search"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"before openai m prod+beta search", "after gpt-routed OK"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("hooks saw %q, want %q", seen, want)
	}
	if answer == nil || answer.Text != res.Text || res.Text == "" {
		t.Errorf("the after hook read %+v; the call returned %q", answer, res.Text)
	}
	if model := lastBody(t)["model"]; model != "gpt-routed" {
		t.Errorf("the provider got model %v", model)
	}
}

func TestHooksErrorHookSeesTheRateLimit(t *testing.T) {
	h := newTestHooks(t)
	var status Status
	var retry string
	addHook(t, h, HookError, "", "status:rate_limited", 0, func(e *HookEvent) error {
		status = e.Status()
		if r := e.Response(); r != nil {
			retry = r.RetryAfter.String()
		}
		if !strings.Contains(e.Message(), "injected status") {
			t.Errorf("message %q", e.Message())
		}
		return nil
	})
	c := hookedClient(t, h)
	_, err := c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fault", "status=429,retry_after=7"))
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("got %v", err)
	}
	if status != StatusRateLimited || retry != "7s" {
		t.Errorf("the error hook saw %s, retry after %s", status, retry)
	}
}

func TestHooksAFailingHookIsCountedAndTheCallSucceeds(t *testing.T) {
	h := newTestHooks(t)
	failing := addHook(t, h, HookAfter, "", "", 0, func(*HookEvent) error {
		return errors.New("the audit database is down")
	})
	panicking := addHook(t, h, HookAfter, "", "", 0, func(*HookEvent) error { panic("boom") })
	ok := addHook(t, h, HookFinally, "", "", 0, func(*HookEvent) error { return nil })
	c := hookedClient(t, h)
	for i := 0; i < 2; i++ {
		if _, err := c.Chat(context.Background(), hello(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if s := stats(t, h, failing); s.Calls != 2 || s.Errors != 2 || s.LastError != "the audit database is down" {
		t.Errorf("failing hook: %+v", s)
	}
	if s := stats(t, h, panicking); s.Errors != 2 || !strings.Contains(s.LastError, "boom") {
		t.Errorf("panicking hook: %+v", s)
	}
	// A hook that returns at once may take under the microsecond the times
	// are counted in: Total and Max may be 0.
	if s := stats(t, h, ok); s.Calls != 2 || s.Errors != 0 || s.LastError != "" || s.Max < 0 || s.Max > s.Total {
		t.Errorf("hook that succeeds: %+v", s)
	}
	if _, err := h.Stats(12345); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stats(unknown id) = %v", err)
	}
}

func TestHooksBeforeHookAnswersOrRejects(t *testing.T) {
	h := newTestHooks(t)
	addHook(t, h, HookBefore, "", "tag:canned", 0, func(e *HookEvent) error { return e.Answer("from the hook") })
	addHook(t, h, HookBefore, "", "tag:blocked", 0, func(e *HookEvent) error {
		return e.Reject(StatusBudgetExceeded, "the team's budget is spent")
	})
	var rejected []string
	addHook(t, h, HookError, "", "status:budget_exceeded", 0, func(e *HookEvent) error {
		rejected = append(rejected, e.Message())
		return nil
	})
	c := hookedClient(t, h)
	res, err := c.Chat(context.Background(), hello(), optionsWith(t, "tags", "canned"))
	if err != nil || res.Text != "from the hook" {
		t.Errorf("answered call: %+v, %v", res, err)
	}
	_, err = c.Chat(context.Background(), hello(), optionsWith(t, "tags", "blocked"))
	if !errors.Is(err, ErrBudgetExceeded) || !strings.Contains(err.Error(), "the team's budget is spent") {
		t.Errorf("rejected call: %v", err)
	}
	if !reflect.DeepEqual(rejected, []string{"the team's budget is spent"}) {
		t.Errorf("the error hook saw %q", rejected)
	}
	if n := len(requestLog(t)); n != 0 {
		t.Errorf("%d requests reached the provider", n)
	}
}

func TestHooksSeeTheCost(t *testing.T) {
	h := newTestHooks(t)
	var costs []float64
	var kept *HookEvent
	record := func(e *HookEvent) error {
		if usd, ok := e.Cost(); ok {
			costs = append(costs, usd)
		} else {
			costs = append(costs, -1)
		}
		kept = e
		return nil
	}
	addHook(t, h, HookBefore, "", "", 0, record) // no answer yet
	addHook(t, h, HookBefore, "", "tag:canned", 0, func(e *HookEvent) error { return e.Answer("from the hook") })
	addHook(t, h, HookFinally, "", "", 0, record)
	c := hookedClient(t, h, "prices", testPrices)
	if _, err := c.Chat(context.Background(), hello(), nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.Chat(context.Background(), hello(), optionsWith(t, "tags", "canned"))
	if err != nil {
		t.Fatal(err)
	}
	// The canned answer cost nothing: no provider was paid.
	if want := []float64{-1, testCost, -1, 0}; !reflect.DeepEqual(costs, want) {
		t.Errorf("the hooks saw costs %v, want %v", costs, want)
	}
	if res.Cost != 0 || !res.HasCost() {
		t.Errorf("the canned answer cost %v (has %v)", res.Cost, res.HasCost())
	}
	if usd, ok := kept.Cost(); ok || usd != 0 {
		t.Errorf("Cost() after the hook returned = %v, %v", usd, ok)
	}
}

func TestHooksScopesTagsAndPredicatesChooseTheHooks(t *testing.T) {
	h := newTestHooks(t)
	runs := map[string]int{}
	count := func(name string) HookFunc {
		return func(*HookEvent) error { runs[name]++; return nil }
	}
	if err := h.AddPredicate("long_prompt", func(e *HookEvent) (bool, error) {
		return len(e.Request()) > 400, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.AddPredicate("broken", func(*HookEvent) (bool, error) { return false, errors.New("no") }); err != nil {
		t.Fatal(err)
	}
	addHook(t, h, HookFinally, "evaluation", "", 0, count("scoped"))
	tagged := addHook(t, h, HookFinally, "", "anytag:billing,audit and not tag:test", 0, count("tagged"))
	addHook(t, h, HookFinally, "", "pred:long_prompt", 0, count("long"))
	broken := addHook(t, h, HookFinally, "", "pred:broken", 0, count("broken"))

	plain := hookedClient(t, h)
	evaluation := hookedClient(t, h, "scopes", "evaluation,production")
	calls := []struct {
		c    *Client
		req  *Request
		tags string
	}{
		{plain, hello(), ""},
		{evaluation, hello(), "billing"},
		{plain, hello(), "billing,test"},
		{plain, &Request{Model: "m", Messages: []Message{UserMessage(strings.Repeat("x", 500))}}, "audit"},
	}
	for _, call := range calls {
		if _, err := call.c.Chat(context.Background(), call.req, optionsWith(t, "tags", call.tags)); err != nil {
			t.Fatal(err)
		}
	}
	if want := map[string]int{"scoped": 1, "tagged": 2, "long": 1}; !reflect.DeepEqual(runs, want) {
		t.Errorf("runs %v, want %v", runs, want)
	}
	if s := stats(t, h, tagged); s.Calls != 2 || s.Skipped != 2 {
		t.Errorf("tagged: %+v", s)
	}
	if s := stats(t, h, broken); s.RuleFailures != 4 || s.Calls != 0 {
		t.Errorf("a failing predicate: %+v", s)
	}
	if err := h.AddPredicate("long_prompt", func(*HookEvent) (bool, error) { return true, nil }); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a predicate name taken twice: %v", err)
	}
}

func TestHooksAsyncHookRunsOnItsThreadUntilFlush(t *testing.T) {
	h := newTestHooks(t, "queue_size", "100")
	var mu sync.Mutex
	var texts []string
	var changed error
	id := addHook(t, h, HookAfter, "", "", HookAsync, func(e *HookEvent) error {
		mu.Lock()
		defer mu.Unlock()
		texts = append(texts, e.Response().Text)
		changed = e.SetMeta("k", "v")
		return nil
	})
	c := hookedClient(t, h)
	var want []string
	for i := 0; i < 3; i++ {
		res, err := c.Chat(context.Background(), hello(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, res.Text)
	}
	if err := h.Flush(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(texts, want) {
		t.Errorf("the async hook read %q, want %q", texts, want)
	}
	if !errors.Is(changed, ErrInvalidArgument) {
		t.Errorf("an async hook changed the call: %v", changed)
	}
	if s := stats(t, h, id); s.Calls != 3 || s.Dropped != 0 {
		t.Errorf("%+v", s)
	}
}

func TestHooksBadArgumentsAreInvalidArgument(t *testing.T) {
	h := newTestHooks(t)
	ok := func(*HookEvent) error { return nil }
	_, err := h.Add(HookBefore, "", "model:gpt-4o and", 0, ok)
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "column") {
		t.Errorf("a bad rule gave %v", err)
	}
	for name, add := range map[string]func() error{
		"nil function":  func() error { _, err := h.Add(HookAfter, "", "", 0, nil); return err },
		"bad scope":     func() error { _, err := h.Add(HookAfter, "two words", "", 0, ok); return err },
		"NUL in rule":   func() error { _, err := h.Add(HookAfter, "", "tag:a\x00", 0, ok); return err },
		"unknown flags": func() error { _, err := h.Add(HookAfter, "", "", 4, ok); return err },
		"unknown pred":  func() error { _, err := h.Add(HookAfter, "", "pred:nope", 0, ok); return err },
		"bad pred name": func() error { return h.AddPredicate("two words", func(*HookEvent) (bool, error) { return true, nil }) },
	} {
		if err := add(); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := h.Remove(12345); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(unknown id) = %v", err)
	}
	if _, err := NewHooks(optionsWith(t, "queue_full", "spill")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("queue_full spill: %v", err)
	}
	if _, err := NewClient(optionsWith(t, "provider", "openai", "api_key", "k", "scopes", "a b")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a bad scope: %v", err)
	}
}

func TestHooksOutliveCloseWhileAClientIsAttached(t *testing.T) {
	h := newTestHooks(t)
	runs := 0
	var kept *HookEvent
	id := addHook(t, h, HookAfter, "", "", 0, func(*HookEvent) error { return errors.New("removed") })
	c := hookedClient(t, h)
	other := hookedClient(t, h)
	if err := h.Remove(id); err != nil {
		t.Fatal(err)
	}
	addHook(t, h, HookAfter, "", "", 0, func(e *HookEvent) error {
		runs++
		kept = e
		return nil
	})
	h.Close()
	h.Close() // harmless
	if _, err := h.Add(HookAfter, "", "", 0, func(*HookEvent) error { return nil }); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Add after Close = %v", err)
	}
	if err := h.Flush(); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Flush after Close = %v", err)
	}
	if err := c.SetHooks(h); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("SetHooks(closed) = %v", err)
	}
	// The clients keep the hooks: the set and its functions outlive Close.
	if _, err := c.Chat(context.Background(), hello(), nil); err != nil || runs != 1 {
		t.Fatalf("after Close: %d runs, %v", runs, err)
	}
	if kept.Model() != "" || kept.Answer("late") == nil {
		t.Error("an event was usable after its hook returned")
	}
	// Detached, one by one: the last lets go of the set.
	if err := c.SetHooks(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Chat(context.Background(), hello(), nil); err != nil || runs != 1 {
		t.Fatalf("detached: %d runs, %v", runs, err)
	}
	if _, err := other.Chat(context.Background(), hello(), nil); err != nil || runs != 2 {
		t.Fatalf("still attached: %d runs, %v", runs, err)
	}
	hookFuncs.mu.Lock()
	held := len(hookFuncs.m)
	hookFuncs.mu.Unlock()
	other.Close()
	hookFuncs.mu.Lock()
	defer hookFuncs.mu.Unlock()
	if len(hookFuncs.m) != held-2 {
		t.Errorf("%d functions held after the last client closed, %d before", len(hookFuncs.m), held)
	}
}
