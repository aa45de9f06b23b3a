package llmkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// cacheWith makes a cache from option pairs and closes the options at once:
// the cache must have copied them.
func cacheWith(kv ...string) (*Cache, error) {
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
	return NewCache(o)
}

func newCache(t *testing.T, kv ...string) *Cache {
	t.Helper()
	c, err := cacheWith(kv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustKey(t *testing.T, c *Cache, scope, provider, request string, callOpts *Options) (string, CacheMode) {
	t.Helper()
	k, m, err := c.Key(scope, provider, []byte(request), callOpts)
	if err != nil {
		t.Fatalf("Key(%q, %q, %s): %v", scope, provider, request, err)
	}
	return k, m
}

func callOptions(t *testing.T, kv ...string) *Options {
	t.Helper()
	o := newOptions(t)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := o.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func wantStat(t *testing.T, c *Cache, name string, want uint64) {
	t.Helper()
	if n, err := c.Stat(name); err != nil || n != want {
		t.Errorf("Stat(%q) = %d, %v; want %d", name, n, err, want)
	}
}

func wantHit(t *testing.T, c *Cache, key string, want []byte) {
	t.Helper()
	v, ok, err := c.Get(key)
	if err != nil || !ok || !bytes.Equal(v, want) {
		t.Fatalf("Get(%s) = %q, %v, %v; want %q, true", key, v, ok, err, want)
	}
}

func wantMiss(t *testing.T, c *Cache, key string) {
	t.Helper()
	v, ok, err := c.Get(key)
	if err != nil || ok || v != nil {
		t.Fatalf("Get(%s) = %q, %v, %v; want a miss", key, v, ok, err)
	}
}

const chatRequest = `{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Hi"}]}`

var hexKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestCacheKeyIsCanonical(t *testing.T) {
	c := newCache(t)
	k, mode := mustKey(t, c, "team-a", "openai", chatRequest, nil)
	if !hexKey.MatchString(k) || mode != CacheUse {
		t.Fatalf("Key = %q, %v; want 32 hex digits, use", k, mode)
	}
	same := []string{
		// Keys reordered, at the top and inside messages.
		`{"messages":[{"content":"Hi","role":"user"}],"temperature":0,"model":"gpt-4o-mini"}`,
		// Numbers spelled otherwise.
		`{"model":"gpt-4o-mini","temperature":0.0,"messages":[{"role":"user","content":"Hi"}]}`,
		`{"model":"gpt-4o-mini","temperature":0e0,"messages":[{"role":"user","content":"Hi"}]}`,
		// Whitespace and string escapes.
		"{ \"model\" : \"gpt-4o-mini\",\n \"temperature\": 0, \"messages\": [ {\"role\": \"user\", \"content\": \"\\u0048i\"} ] }",
		// Fields that cannot change the answer.
		`{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Hi"}],"stream":true,"user":"u1"}`,
	}
	for _, r := range same {
		if got, _ := mustKey(t, c, "team-a", "openai", r, nil); got != k {
			t.Errorf("Key(%s) = %s, want %s as for %s", r, got, k, chatRequest)
		}
	}
	// 1 and 1.0 are one number.
	one, _ := mustKey(t, c, "", "openai", `{"model":"m","top_p":1,"temperature":0}`, nil)
	if got, _ := mustKey(t, c, "", "openai", `{"temperature":0.0,"top_p":1.0,"model":"m"}`, nil); got != one {
		t.Errorf("top_p 1.0 gives %s, 1 gave %s", got, one)
	}

	different := map[string][3]string{
		"another scope":    {"team-b", "openai", chatRequest},
		"no scope":         {"", "openai", chatRequest},
		"another provider": {"team-a", "anthropic", chatRequest},
		"another message":  {"team-a", "openai", `{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Ho"}]}`},
		"another model":    {"team-a", "openai", `{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"Hi"}]}`},
	}
	seen := map[string]string{k: "the original"}
	for why, in := range different {
		got, _ := mustKey(t, c, in[0], in[1], in[2], nil)
		if other, dup := seen[got]; dup {
			t.Errorf("%s gives the key of %s: %s", why, other, got)
		}
		seen[got] = why
	}

	// Keys depend on the request only, not on the cache that made them.
	other := newCache(t, "max_entries", "10")
	if got, _ := mustKey(t, other, "team-a", "openai", chatRequest, nil); got != k {
		t.Errorf("another cache gives %s, want %s", got, k)
	}
}

func TestCacheKeyMode(t *testing.T) {
	c := newCache(t)
	hot := `{"model":"m","temperature":0.7,"messages":[]}`
	cold := `{"model":"m","temperature":0,"messages":[]}`
	for _, tc := range []struct {
		call    []string
		request string
		want    CacheMode
	}{
		{nil, cold, CacheUse},
		{nil, hot, CacheUse}, // "temperature" is "cache" by default
		{[]string{"cache", "use"}, cold, CacheUse},
		{[]string{"cache", "bypass"}, cold, CacheBypass},
		{[]string{"cache", "refresh"}, cold, CacheRefresh},
	} {
		var o *Options
		if tc.call != nil {
			o = callOptions(t, tc.call...)
		}
		key, mode := mustKey(t, c, "", "openai", tc.request, o)
		if mode != tc.want {
			t.Errorf("call options %q, %s: mode %v, want %v", tc.call, tc.request, mode, tc.want)
		}
		if want, _ := mustKey(t, c, "", "openai", tc.request, nil); key != want {
			t.Errorf("call options %q changed the key", tc.call)
		}
	}

	skip := newCache(t, "temperature", "skip")
	for _, tc := range []struct {
		request string
		want    CacheMode
	}{
		{hot, CacheBypass},
		{`{"model":"m","messages":[]}`, CacheBypass}, // none given: the provider's 1
		{cold, CacheUse},
		{`{"model":"m","temperature":0.0,"messages":[]}`, CacheUse},
	} {
		key, mode := mustKey(t, skip, "", "openai", tc.request, nil)
		if mode != tc.want || !hexKey.MatchString(key) {
			t.Errorf("temperature skip, %s: %q, %v; want a key and %v", tc.request, key, mode, tc.want)
		}
	}
	if _, mode := mustKey(t, skip, "", "openai", hot, callOptions(t, "cache", "refresh")); mode != CacheBypass {
		t.Errorf("refresh of a sampled request under skip = %v, want bypass", mode)
	}

	for m, s := range map[CacheMode]string{CacheBypass: "bypass", CacheUse: "use", CacheRefresh: "refresh", 7: "CacheMode(7)"} {
		if m.String() != s {
			t.Errorf("CacheMode(%d).String() = %q, want %q", int(m), m.String(), s)
		}
	}
}

func TestCacheKeyRejectsBadInput(t *testing.T) {
	c := newCache(t)
	for _, tc := range []struct {
		scope, provider, request string
		call                     []string
		part                     string
	}{
		{"", "openai", `{"model":`, nil, "request"},
		{"", "openai", ``, nil, "request"},
		{"", "openai", `{"model":"m"}`, []string{"cache", "sometimes"}, "option 'cache' must be use, bypass or refresh"},
		{"", "openai", `{"model":"m"}`, []string{"ttl", "5"}, "'ttl'"},
		{"", "openai", "{\"model\":\"\xff\"}", nil, ""},
		{"\xff", "openai", `{"model":"m"}`, nil, "scope"},
		{"a\x00b", "openai", `{"model":"m"}`, nil, "NUL byte at offset 1"},
		{"", "open\x00ai", `{"model":"m"}`, nil, "NUL byte at offset 4"},
	} {
		var o *Options
		if tc.call != nil {
			o = callOptions(t, tc.call...)
		}
		k, mode, err := c.Key(tc.scope, tc.provider, []byte(tc.request), o)
		if k != "" || mode != CacheBypass {
			t.Errorf("Key(%q, %q, %q) gave %q, %v with an error", tc.scope, tc.provider, tc.request, k, mode)
		}
		wantError(t, err, StatusInvalidArgument, tc.part)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("errors.Is(%v, ErrInvalidArgument) = false", err)
		}
	}
	closed := newOptions(t)
	closed.Close()
	_, _, err := c.Key("", "openai", []byte(chatRequest), closed)
	wantError(t, err, StatusInvalidArgument, "Options used after Close")
}

func TestCacheMissPutHit(t *testing.T) {
	c := newCache(t)
	k, _ := mustKey(t, c, "", "openai", chatRequest, nil)
	wantMiss(t, c, k)
	// Any bytes: NULs and invalid UTF-8 included.
	answer := []byte("{\"choices\":[]}\x00\xff tail")
	if err := c.Put(k, answer, 0); err != nil {
		t.Fatal(err)
	}
	answer[0] = 'X' // Put copied it
	v, ok, err := c.Get(k)
	if err != nil || !ok || string(v) != "{\"choices\":[]}\x00\xff tail" {
		t.Fatalf("Get = %q, %v, %v", v, ok, err)
	}
	v[1] = 'Y' // Get gave a copy
	wantHit(t, c, k, []byte("{\"choices\":[]}\x00\xff tail"))

	// An empty value is a value: a hit, not a miss.
	k2, _ := mustKey(t, c, "", "openai", `{"model":"m","temperature":0}`, nil)
	if err := c.Put(k2, nil, 0); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := c.Get(k2); err != nil || !ok || v == nil || len(v) != 0 {
		t.Errorf("Get of an empty value = %#v, %v, %v; want []byte{}, true", v, ok, err)
	}
	// Put replaces.
	if err := c.Put(k, []byte("second"), 0); err != nil {
		t.Fatal(err)
	}
	wantHit(t, c, k, []byte("second"))
}

func TestCacheStats(t *testing.T) {
	c := newCache(t)
	k, _ := mustKey(t, c, "", "openai", chatRequest, nil)
	wantMiss(t, c, k)
	wantMiss(t, c, k)
	c.Put(k, []byte("answer"), 0)
	for i := 0; i < 3; i++ {
		wantHit(t, c, k, []byte("answer"))
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Hits != 3 || s.Misses != 2 || s.Entries != 1 || s.Bytes < 6 || s.Evictions != 0 || s.Expirations != 0 || s.Waits != 0 || s.BackendErrors != 0 {
		t.Errorf("Stats() = %+v; want 3 hits, 2 misses, 1 entry of some bytes, nothing else", s)
	}
	wantStat(t, c, "hits", 3)
	wantStat(t, c, "misses", 2)
	_, err = c.Stat("allowed")
	wantError(t, err, StatusNotFound, "known: hits, misses")
	_, err = c.Stat("hits\x00")
	wantError(t, err, StatusInvalidArgument, "NUL byte at offset 4")
}

func TestCacheTTL(t *testing.T) {
	c := newCache(t)
	short, _ := mustKey(t, c, "", "openai", `{"model":"m","temperature":0,"n":1}`, nil)
	long, _ := mustKey(t, c, "", "openai", `{"model":"m","temperature":0,"n":2}`, nil)
	if err := c.Put(short, []byte("brief"), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(long, []byte("lasting"), 0); err != nil { // the default: an hour
		t.Fatal(err)
	}
	start := time.Now()
	wantHit(t, c, short, []byte("brief"))
	for {
		_, ok, err := c.Get(short)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("an entry put for 50ms still there after 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if took := time.Since(start); took < 40*time.Millisecond {
		t.Errorf("an entry put for 50ms expired after %v", took)
	}
	wantHit(t, c, long, []byte("lasting"))
	if n, err := c.Stat("expirations"); err != nil || n != 1 {
		t.Errorf("Stat(expirations) = %d, %v; want 1", n, err)
	}

	// Under a millisecond rounds up, not down to 0 (the default).
	if err := c.Put(short, []byte("blink"), time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, ok, _ := c.Get(short); ok; _, ok, _ = c.Get(short) {
		if time.Now().After(deadline) {
			t.Fatal("an entry put for 1ns lives on: its TTL became the default")
		}
		time.Sleep(time.Millisecond)
	}

	wantError(t, c.Put(short, []byte("x"), -time.Second), StatusInvalidArgument, "ttl must not be negative")

	// The "ttl" option is the default of Put.
	quick := newCache(t, "ttl", "1")
	quick.Put(short, []byte("a second"), 0)
	wantHit(t, quick, short, []byte("a second"))
	deadline = time.Now().Add(10 * time.Second)
	for _, ok, _ := quick.Get(short); ok; _, ok, _ = quick.Get(short) {
		if time.Now().After(deadline) {
			t.Fatal(`an entry put with ttl 0 under "ttl" 1 still there after 10s`)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCacheInvalidateAndClear(t *testing.T) {
	c := newCache(t)
	var keys []string
	for i := 0; i < 3; i++ {
		k, _ := mustKey(t, c, "", "openai", fmt.Sprintf(`{"model":"m","temperature":0,"seed":%d}`, i), nil)
		if err := c.Put(k, []byte{byte(i)}, 0); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	wantStat(t, c, "entries", 3)
	if err := c.Invalidate(keys[1]); err != nil {
		t.Fatal(err)
	}
	wantMiss(t, c, keys[1])
	wantHit(t, c, keys[0], []byte{0})
	wantHit(t, c, keys[2], []byte{2})
	if err := c.Invalidate(keys[1]); err != nil { // absent: nothing to do
		t.Errorf("Invalidate of an absent key: %v", err)
	}
	wantStat(t, c, "entries", 2)
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		wantMiss(t, c, k)
	}
	wantStat(t, c, "entries", 0)
	wantStat(t, c, "bytes", 0)
}

func TestCacheRejectsBadKeys(t *testing.T) {
	c := newCache(t)
	good, _ := mustKey(t, c, "", "openai", chatRequest, nil)
	for _, tc := range []struct{ key, part string }{
		{"", "a cache key is 32 hex digits, not 0 characters"},
		{"abc", "a cache key is 32 hex digits, not 3 characters"},
		{good + "0", "not 33 characters"},
		{good[:31] + "g", "hex"},
		{good[:31] + "\x00", "NUL byte at offset 31"}, // not cut short to 31 digits
		{good + "\x00", "NUL byte at offset 32"},      // not cut short to a good key
	} {
		_, ok, err := c.Get(tc.key)
		if ok {
			t.Errorf("Get(%q) hit", tc.key)
		}
		wantError(t, err, StatusInvalidArgument, tc.part)
		wantError(t, c.Put(tc.key, []byte("v"), 0), StatusInvalidArgument, tc.part)
		wantError(t, c.Invalidate(tc.key), StatusInvalidArgument, tc.part)
		_, err = c.GetOrFill(context.Background(), tc.key, time.Second, func() ([]byte, error) {
			t.Errorf("GetOrFill(%q) called fill", tc.key)
			return nil, nil
		})
		wantError(t, err, StatusInvalidArgument, tc.part)
	}
	wantStat(t, c, "entries", 0)
}

func TestNewCacheOptions(t *testing.T) {
	for _, tc := range []struct {
		opts []string
		part string
	}{
		{[]string{"colour", "red"}, "unknown option 'colour'"},
		{[]string{"ttl", "soon"}, "'ttl'"},
		{[]string{"max_entries", "0"}, "'max_entries'"},
		{[]string{"temperature", "warm"}, "option 'temperature' must be cache or skip"},
		{[]string{"backend", "disk"}, "option 'backend' must be memory or redis"},
		{[]string{"redis.url", "redis://h"}, "option 'redis.url' needs backend redis"},
	} {
		c, err := cacheWith(tc.opts...)
		if c != nil {
			t.Errorf("options %q made a cache", tc.opts)
		}
		wantError(t, err, StatusInvalidArgument, tc.part)
	}
	c, err := NewCache(nil) // every default
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := newOptions(t)
	o.Close()
	_, err = NewCache(o)
	wantError(t, err, StatusInvalidArgument, "used after Close")
}

// Many goroutines missing one key: fill runs once, every one gets its value.
func TestCacheGetOrFillFillsOnce(t *testing.T) {
	c := newCache(t)
	k, _ := mustKey(t, c, "", "openai", chatRequest, nil)
	const goroutines = 32
	var calls atomic.Int32
	release := make(chan struct{})
	fill := func() ([]byte, error) {
		calls.Add(1)
		<-release // until every goroutine has asked
		return []byte("the answer"), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	results := make([][]byte, goroutines)
	errs := make([]error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			results[g], errs[g] = c.GetOrFill(ctx, k, 30*time.Second, fill)
		}(g)
	}
	// Every goroutine but the filler waits: "waits" counts them.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if n, _ := c.Stat("waits"); n == goroutines-1 {
			break
		}
		if time.Now().After(deadline) {
			n, _ := c.Stat("waits")
			t.Fatalf("%d of %d goroutines waiting after 10s", n, goroutines-1)
		}
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("fill called %d times, want 1", n)
	}
	for g := range results {
		if errs[g] != nil || string(results[g]) != "the answer" {
			t.Errorf("goroutine %d got %q, %v", g, results[g], errs[g])
		}
	}
	wantHit(t, c, k, []byte("the answer"))
	// The filler missed; the waiters hit on its value.
	wantStat(t, c, "misses", 1)
	wantStat(t, c, "hits", goroutines-1+1)

	// A hit does not call fill.
	v, err := c.GetOrFill(ctx, k, 0, func() ([]byte, error) {
		t.Error("fill called on a hit")
		return nil, nil
	})
	if err != nil || string(v) != "the answer" {
		t.Errorf("GetOrFill on a hit = %q, %v", v, err)
	}
}

func TestCacheGetOrFillErrors(t *testing.T) {
	c := newCache(t)
	k, _ := mustKey(t, c, "", "openai", chatRequest, nil)
	ctx := context.Background()
	upstreamDown := errors.New("upstream is down")
	v, err := c.GetOrFill(ctx, k, time.Second, func() ([]byte, error) { return nil, upstreamDown })
	if err != upstreamDown || v != nil {
		t.Fatalf("GetOrFill with a failing fill = %q, %v; want its error as is", v, err)
	}
	wantMiss(t, c, k) // errors are not cached
	// The failed filler gave up its turn: the next call leads at once
	// instead of waiting for it.
	start := time.Now()
	v, err = c.GetOrFill(ctx, k, 10*time.Second, func() ([]byte, error) { return []byte("second try"), nil })
	if err != nil || string(v) != "second try" {
		t.Fatalf("GetOrFill after a failed fill = %q, %v", v, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the next GetOrFill waited %v on the failed filler", took)
	}
	wantHit(t, c, k, []byte("second try"))

	// A waiter takes over from a filler that fails.
	k2, _ := mustKey(t, c, "", "openai", `{"model":"m","temperature":0}`, nil)
	misses, err := c.Stat("misses")
	if err != nil {
		t.Fatal(err)
	}
	failing := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := c.GetOrFill(ctx, k2, time.Minute, func() ([]byte, error) {
			<-failing
			return nil, upstreamDown
		})
		first <- err
	}()
	waitForStat(t, c, "misses", misses+1) // this filler's
	second := make(chan []byte, 1)
	go func() {
		v, err := c.GetOrFill(ctx, k2, time.Minute, func() ([]byte, error) { return []byte("took over"), nil })
		if err != nil {
			t.Error(err)
		}
		second <- v
	}()
	waitForStat(t, c, "waits", 1)
	close(failing)
	if err := <-first; err != upstreamDown {
		t.Errorf("the failing filler got %v", err)
	}
	if v := <-second; string(v) != "took over" {
		t.Errorf("the waiter got %q, want its own fill's value", v)
	}
	wantHit(t, c, k2, []byte("took over"))

	// So does a panic.
	k3, _ := mustKey(t, c, "", "openai", `{"model":"m","temperature":0,"seed":3}`, nil)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic of fill", r)
			}
		}()
		c.GetOrFill(ctx, k3, time.Minute, func() ([]byte, error) { panic("boom") })
	}()
	start = time.Now()
	if v, err := c.GetOrFill(ctx, k3, 10*time.Second, func() ([]byte, error) { return []byte("ok"), nil }); err != nil || string(v) != "ok" {
		t.Errorf("GetOrFill after a panicking fill = %q, %v", v, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the next GetOrFill waited %v on the panicked filler", took)
	}

	_, err = c.GetOrFill(ctx, k, -time.Second, func() ([]byte, error) { return nil, nil })
	wantError(t, err, StatusInvalidArgument, "wait must not be negative")
	_, err = c.GetOrFill(ctx, k, 0, nil)
	wantError(t, err, StatusInvalidArgument, "needs a fill function")
}

func waitForStat(t *testing.T, c *Cache, name string, want uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		n, err := c.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stat(%q) = %d after 10s, want %d", name, n, want)
		}
	}
}

// A waiter whose wait runs out calls fill itself, and stores its value.
func TestCacheGetOrFillWaitRunsOut(t *testing.T) {
	c := newCache(t)
	k, _ := mustKey(t, c, "", "openai", chatRequest, nil)
	ctx := context.Background()
	slow := make(chan struct{})
	done := make(chan []byte, 1)
	begun := time.Now()
	go func() {
		v, _ := c.GetOrFill(ctx, k, time.Minute, func() ([]byte, error) {
			<-slow
			return []byte("slow"), nil
		})
		done <- v
	}()
	waitForStat(t, c, "misses", 1)
	start := time.Now()
	// A flight older than the caller's wait is presumed lost: it fills at once.
	young := start.Sub(begun) < 30*time.Millisecond
	v, err := c.GetOrFill(ctx, k, 30*time.Millisecond, func() ([]byte, error) { return []byte("impatient"), nil })
	if err != nil || string(v) != "impatient" {
		t.Fatalf("GetOrFill whose wait ran out = %q, %v", v, err)
	}
	if took := time.Since(start); young && took < 25*time.Millisecond {
		t.Errorf("returned after %v, before its 30ms wait ran out", took)
	}
	wantHit(t, c, k, []byte("impatient"))
	close(slow)
	if v := <-done; string(v) != "slow" {
		t.Errorf("the slow filler got %q", v)
	}
	wantHit(t, c, k, []byte("slow")) // the last put wins
}

// ctx ends a wait at once; ctx's deadline ends it as a timeout.
func TestCacheGetOrFillContext(t *testing.T) {
	c := newCache(t)
	k, _ := mustKey(t, c, "", "openai", chatRequest, nil)
	hold := make(chan struct{})
	filled := make(chan struct{})
	go func() {
		defer close(filled)
		c.GetOrFill(context.Background(), k, 0, func() ([]byte, error) {
			<-hold
			return []byte("late"), nil
		})
	}()
	waitForStat(t, c, "misses", 1)
	noFill := func() ([]byte, error) {
		t.Error("fill called by a waiter that was cancelled")
		return nil, nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() {
		_, err := c.GetOrFill(ctx, k, time.Hour, noFill)
		ch <- err
	}()
	waitForStat(t, c, "waits", 1)
	start := time.Now()
	cancel()
	err := <-ch
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("GetOrFill returned %v after cancel", took)
	}
	wantContextError(t, err, ErrCancelled, context.Canceled)

	// The deadline comes before the wait (an hour) runs out: a timeout,
	// not a miss that calls fill.
	dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer dcancel()
	start = time.Now()
	_, err = c.GetOrFill(dctx, k, time.Hour, noFill)
	if took := time.Since(start); took < 45*time.Millisecond || took > 5*time.Second {
		t.Errorf("GetOrFill with a 50ms deadline returned after %v", took)
	}
	wantContextError(t, err, ErrTimeout, context.DeadlineExceeded)

	// An ended context fails without looking.
	_, err = c.GetOrFill(ctx, k, time.Hour, noFill)
	wantContextError(t, err, ErrCancelled, context.Canceled)

	close(hold)
	<-filled
	wantHit(t, c, k, []byte("late"))
}

// fakeEmbeddings answers an embeddings request as OpenAI would, with the
// embedding of s being [len(s), s[0]] and usage of one token an input.
func fakeEmbeddings(t *testing.T, sent *[][]string) func([]byte) ([]byte, error) {
	return func(request []byte) ([]byte, error) {
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.Unmarshal(request, &req); err != nil {
			t.Errorf("upstream got %s: %v", request, err)
			return nil, err
		}
		*sent = append(*sent, req.Input)
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		}
		var answer struct {
			Object string         `json:"object"`
			Data   []item         `json:"data"`
			Model  string         `json:"model"`
			Usage  map[string]int `json:"usage"`
		}
		answer.Object, answer.Model = "list", req.Model
		for i, s := range req.Input {
			answer.Data = append(answer.Data, item{"embedding", i, []float64{float64(len(s)), float64(s[0])}})
		}
		answer.Usage = map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)}
		return json.Marshal(answer)
	}
}

type embeddingsAnswer struct {
	Object string `json:"object"`
	Data   []struct {
		Index     int       `json:"index"`
		Embedding []float64 `json:"embedding"`
	} `json:"data"`
	Model string         `json:"model"`
	Usage map[string]int `json:"usage"`
}

func wantEmbeddings(t *testing.T, answer []byte, inputs []string, tokens int) {
	t.Helper()
	var a embeddingsAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		t.Fatalf("answer %s: %v", answer, err)
	}
	if a.Object != "list" || a.Model != "text-embedding-3-small" || len(a.Data) != len(inputs) || a.Usage["prompt_tokens"] != tokens {
		t.Errorf("answer %s; want a list of %d for the model, %d prompt tokens", answer, len(inputs), tokens)
	}
	for i, d := range a.Data {
		want := []float64{float64(len(inputs[i])), float64(inputs[i][0])}
		if d.Index != i || fmt.Sprint(d.Embedding) != fmt.Sprint(want) {
			t.Errorf("data[%d] = index %d, %v; want index %d, %v (of %q)", i, d.Index, d.Embedding, i, want, inputs[i])
		}
	}
}

func TestCacheEmbeddingsSendsOnlyMisses(t *testing.T) {
	c := newCache(t)
	var sent [][]string
	upstream := fakeEmbeddings(t, &sent)
	request := func(inputs ...string) []byte {
		b, _ := json.Marshal(map[string]any{"model": "text-embedding-3-small", "input": inputs})
		return b
	}

	first := []string{"apple", "banana", "cherry"}
	answer, err := c.Embeddings("", "openai", request(first...), upstream)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || fmt.Sprint(sent[0]) != fmt.Sprint(first) {
		t.Fatalf("upstream got %q, want all three", sent)
	}
	wantEmbeddings(t, answer, first, 3)

	// Two known, one new, in between: only the new one goes upstream, and
	// the answer has all three in the order asked.
	second := []string{"cherry", "date", "apple"}
	answer, err = c.Embeddings("", "openai", request(second...), upstream)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 || fmt.Sprint(sent[1]) != "[date]" {
		t.Fatalf("upstream got %q, want only [date] the second time", sent)
	}
	wantEmbeddings(t, answer, second, 1)

	// All known: upstream is not called.
	third := []string{"date", "banana"}
	answer, err = c.Embeddings("", "openai", request(third...), upstream)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 {
		t.Errorf("upstream called for cached inputs: %q", sent[2:])
	}
	wantEmbeddings(t, answer, third, 0)

	// Another scope shares nothing.
	if _, err := c.Embeddings("team-b", "openai", request("apple"), upstream); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 3 || fmt.Sprint(sent[2]) != "[apple]" {
		t.Errorf("upstream got %q for another scope, want [apple]", sent)
	}
	// Nor does another model.
	other, _ := json.Marshal(map[string]any{"model": "text-embedding-3-large", "input": "apple"})
	if _, err := c.Embeddings("", "openai", other, upstream); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 4 {
		t.Errorf("upstream not called for another model")
	}
}

func TestCacheEmbeddingsErrors(t *testing.T) {
	c := newCache(t)
	req := []byte(`{"model":"text-embedding-3-small","input":["a","b"]}`)
	down := errors.New("down")
	if _, err := c.Embeddings("", "openai", req, func([]byte) ([]byte, error) { return nil, down }); err != down {
		t.Errorf("upstream's error came back as %v", err)
	}
	_, err := c.Embeddings("", "openai", req, func([]byte) ([]byte, error) {
		return []byte(`{"object":"list","data":[{"index":0,"embedding":[1]}]}`), nil
	})
	wantError(t, err, StatusProviderError, "1 embeddings for 2 inputs")
	_, err = c.Embeddings("", "openai", req, func([]byte) ([]byte, error) { return []byte(`not json`), nil })
	wantError(t, err, StatusProviderError, "not valid JSON")
	_, err = c.Embeddings("", "openai", req, func([]byte) ([]byte, error) { return nil, nil })
	wantError(t, err, StatusInvalidArgument, "the upstream answer is needed")
	// Nothing failed was cached: a good answer is still asked for both.
	var sent [][]string
	if _, err := c.Embeddings("", "openai", req, fakeEmbeddings(t, &sent)); err != nil || len(sent) != 1 || len(sent[0]) != 2 {
		t.Errorf("after failures upstream got %q, %v; want both inputs", sent, err)
	}

	noCall := func([]byte) ([]byte, error) {
		t.Error("upstream called for a bad request")
		return nil, nil
	}
	for _, bad := range []string{`{"model":"m"}`, `{"model":"m","input":[]}`, `{"input":`, `[1,2]`} {
		_, err := c.Embeddings("", "openai", []byte(bad), noCall)
		wantError(t, err, StatusInvalidArgument, "")
	}
	_, err = c.Embeddings("", "openai", req, nil)
	wantError(t, err, StatusInvalidArgument, "needs an upstream function")
}

const completion = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Héllo, wörld! A reply long enough to need several pieces, ünïcödé included."},` +
	`"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29}}`

type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage map[string]int `json:"usage"`
}

func TestReplay(t *testing.T) {
	var c struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal([]byte(completion), &c); err != nil {
		t.Fatal(err)
	}
	content := c.Choices[0].Message.Content
	for _, pieceBytes := range []int{0, 1, 7, 1000} {
		chunks, err := Replay([]byte(completion), pieceBytes)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		var role, finish string
		var usage map[string]int
		pieces := 0
		for _, raw := range chunks {
			var ch chunk
			if err := json.Unmarshal(raw, &ch); err != nil {
				t.Fatalf("chunk %s: %v", raw, err)
			}
			if ch.ID != "chatcmpl-1" || ch.Object != "chat.completion.chunk" || ch.Model != "gpt-4o-mini" {
				t.Errorf("chunk %s", raw)
			}
			if ch.Usage != nil {
				usage = ch.Usage
			}
			for _, choice := range ch.Choices {
				role += choice.Delta.Role
				if p := choice.Delta.Content; p != nil && *p != "" {
					if !utf8.ValidString(*p) {
						t.Errorf("piece %q splits a character", *p)
					}
					got += *p
					pieces++
				}
				if choice.FinishReason != nil {
					finish = *choice.FinishReason
				}
			}
		}
		if got != content {
			t.Errorf("piece_bytes %d: content deltas make %q, want %q", pieceBytes, got, content)
		}
		if role != "assistant" || finish != "stop" || usage["total_tokens"] != 29 {
			t.Errorf("piece_bytes %d: role %q, finish %q, usage %v", pieceBytes, role, finish, usage)
		}
		size := pieceBytes
		if size == 0 {
			size = 64
		}
		// Pieces of at most size bytes, or one character where that is
		// longer (up to 4 bytes): no more pieces than characters.
		if min, max := (len(content)+size+2)/(size+3), utf8.RuneCountInString(content); pieces < min || pieces > max {
			t.Errorf("piece_bytes %d: %d pieces, want %d to %d", pieceBytes, pieces, min, max)
		}
	}

	for _, bad := range []string{``, `{"object":"chat.completion"`, `{"object":"list","data":[]}`, `[]`} {
		chunks, err := Replay([]byte(bad), 0)
		if chunks != nil {
			t.Errorf("Replay(%q) gave chunks", bad)
		}
		wantError(t, err, StatusInvalidArgument, "")
	}
	_, err := Replay([]byte(`{"object":"list"}`), 0)
	wantError(t, err, StatusInvalidArgument, "not a chat completion")
	_, err = Replay([]byte(completion), -1)
	wantError(t, err, StatusInvalidArgument, "pieceBytes must not be negative")
}

func TestCacheUseAfterClose(t *testing.T) {
	c := newCache(t)
	k, _ := mustKey(t, c, "", "openai", chatRequest, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	const part = "Cache used after Close"
	_, _, err := c.Key("", "openai", []byte(chatRequest), nil)
	wantError(t, err, StatusInvalidArgument, part)
	_, _, err = c.Get(k)
	wantError(t, err, StatusInvalidArgument, part)
	wantError(t, c.Put(k, nil, 0), StatusInvalidArgument, part)
	wantError(t, c.Invalidate(k), StatusInvalidArgument, part)
	wantError(t, c.Clear(), StatusInvalidArgument, part)
	_, err = c.Stat("hits")
	wantError(t, err, StatusInvalidArgument, part)
	_, err = c.Stats()
	wantError(t, err, StatusInvalidArgument, part)
	_, err = c.GetOrFill(context.Background(), k, 0, func() ([]byte, error) { return nil, nil })
	wantError(t, err, StatusInvalidArgument, part)
	_, err = c.Embeddings("", "openai", []byte(`{"input":"a"}`), func([]byte) ([]byte, error) { return nil, nil })
	wantError(t, err, StatusInvalidArgument, part)
}

func BenchmarkCacheGetHit(b *testing.B) {
	c, err := NewCache(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	k, _, err := c.Key("", "openai", []byte(chatRequest), nil)
	if err != nil {
		b.Fatal(err)
	}
	c.Put(k, bytes.Repeat([]byte("x"), 1024), 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(k)
		}
	})
}

func BenchmarkCacheKey(b *testing.B) {
	c, err := NewCache(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte(chatRequest)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Key("team-a", "openai", req, nil)
	}
}
