package llmkit

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// A client's calls through a Cache and a RateLimiter, against
// test/upstream/upstream.py (client_test.go starts it).

func TestClientCacheAnswersARepeatedCallForNothing(t *testing.T) {
	cache := newCache(t)
	h := newTestHooks(t)
	var seen []bool
	addHook(t, h, HookAfter, "", "", 0, func(e *HookEvent) error {
		seen = append(seen, e.Cached())
		return nil
	})
	c := hookedClient(t, h, "cache.scope", "tenant-a")
	if err := c.SetCache(cache); err != nil {
		t.Fatal(err)
	}
	first, err := c.Chat(context.Background(), hello(), nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Chat(context.Background(), hello(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached || !second.Cached {
		t.Errorf("Cached = %v, %v; want false, true", first.Cached, second.Cached)
	}
	if second.Cost != 0 || second.Attempts != 1 || second.Text != first.Text {
		t.Errorf("hit: Cost %v, Attempts %d, Text %q; want 0, 1, %q", second.Cost, second.Attempts, second.Text, first.Text)
	}
	if n := len(requestLog(t)); n != 1 {
		t.Errorf("the provider got %d requests, want 1", n)
	}
	if len(seen) != 2 || seen[0] || !seen[1] {
		t.Errorf("hooks saw cached %v, want [false true]", seen)
	}
	// "bypass" goes to the provider; without the cache, every call does.
	if r, err := c.Chat(context.Background(), hello(), optionsWith(t, "cache", "bypass")); err != nil || r.Cached {
		t.Errorf("bypass: %v, cached %v", err, r != nil && r.Cached)
	}
	if err := c.SetCache(nil); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Chat(context.Background(), hello(), nil); err != nil || r.Cached {
		t.Errorf("no cache: %v, cached %v", err, r != nil && r.Cached)
	}
	if n := len(requestLog(t)); n != 3 {
		t.Errorf("the provider got %d requests, want 3", n)
	}
}

func TestClientCacheStreamsAHitThroughOnChunk(t *testing.T) {
	c := newTestClient(t, "openai")
	if err := c.SetCache(newCache(t)); err != nil {
		t.Fatal(err)
	}
	want, err := c.Chat(context.Background(), hello(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	r, err := c.ChatStream(context.Background(), hello(), nil, func(ch Chunk) error {
		got.WriteString(ch.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Cached || got.String() != want.Text {
		t.Errorf("streamed hit: cached %v, pieces %q; want true, %q", r.Cached, got.String(), want.Text)
	}
}

func TestClientKeepsItsCacheAndLimiterFromTheCollector(t *testing.T) {
	c := newTestClient(t, "openai")
	func() {
		cache, err := cacheWith()
		if err != nil {
			t.Fatal(err)
		}
		limiter, err := limiterWith("requests", "100")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetCache(cache); err != nil {
			t.Fatal(err)
		}
		if err := c.SetRateLimiter(limiter); err != nil {
			t.Fatal(err)
		}
	}() // only c refers to them now
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	for i := 0; i < 2; i++ {
		if _, err := c.Chat(context.Background(), hello(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(requestLog(t)); n != 1 {
		t.Errorf("the provider got %d requests, want 1: the cache is gone", n)
	}
}

func TestClientRateLimiterRefusesACallerPastItsLimit(t *testing.T) {
	limiter := newLimiter(t, "requests", "1", "window", "3600")
	c := newTestClient(t, "openai")
	if err := c.SetRateLimiter(limiter); err != nil {
		t.Fatal(err)
	}
	a := optionsWith(t, "caller", "team-a")
	if _, err := c.Chat(context.Background(), hello(), a); err != nil {
		t.Fatal(err)
	}
	_, err := c.Chat(context.Background(), hello(), a)
	if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "'team-a'") {
		t.Errorf("second call of team-a: %v, want ErrRateLimited naming it", err)
	}
	if _, err := c.Chat(context.Background(), hello(), optionsWith(t, "caller", "team-b")); err != nil {
		t.Errorf("team-b: %v", err)
	}
	if n := len(requestLog(t)); n != 2 {
		t.Errorf("the provider got %d requests, want 2", n)
	}
}

func TestClientSetCacheAndSetRateLimiterRefuseClosedObjects(t *testing.T) {
	c := newTestClient(t, "openai")
	cache, _ := cacheWith()
	cache.Close()
	if err := c.SetCache(cache); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("SetCache(closed cache) = %v", err)
	}
	limiter, _ := limiterWith("requests", "1")
	limiter.Close()
	if err := c.SetRateLimiter(limiter); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("SetRateLimiter(closed limiter) = %v", err)
	}
	c.Close()
	if err := c.SetCache(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("SetCache on a closed client = %v", err)
	}
	if err := c.SetRateLimiter(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("SetRateLimiter on a closed client = %v", err)
	}
}
