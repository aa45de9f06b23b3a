package llmkit

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// A client routing among deployments (docs/routing.md), against
// test/upstream/upstream.py (client_test.go starts it).

// routedClient routes among two deployments on the upstream: "primary"
// (OpenAI) serving the group "chat", sending the fault header
// primaryFault ("" for none), and "backup" (Anthropic), which "chat" falls
// back to on server errors. Two tries per group, a millisecond apart.
func routedClient(t *testing.T, primaryFault string) *Client {
	t.Helper()
	deployments := fmt.Sprintf(`[
	  {"name": "primary", "provider": "openai", "base_url": %q, "api_key": %q,
	   "model": "gpt-4o-mini", "group": "chat", "header.x-upstream-fault": %q},
	  {"name": "backup", "provider": "anthropic", "base_url": %q, "api_key": %q,
	   "model": "claude-3-5-haiku-latest"}]`,
		baseURL(t, "openai"), testKey, primaryFault, baseURL(t, "anthropic"), testKey)
	o := optionsWith(t, "deployments", deployments,
		"fallbacks", `[{"from": "chat", "to": ["backup"], "on": ["server"]}]`,
		"retry.attempts", "2", "retry.base_ms", "1")
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// helloTo is a request for group.
func helloTo(group string) *Request {
	return &Request{Model: group, Messages: []Message{UserMessage("Hello")}}
}

// wantAnswer asks c's group "chat" and checks who answered, in how many tries.
func wantAnswer(t *testing.T, c *Client, deployment, provider string, attempts int) {
	t.Helper()
	r, err := c.Chat(context.Background(), helloTo("chat"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Deployment != deployment || r.Provider != provider || r.Attempts != attempts {
		t.Errorf("answered by %q (%s) in %d tries, want %s (%s) in %d",
			r.Deployment, r.Provider, r.Attempts, deployment, provider, attempts)
	}
}

func TestClientResponseNamesTheDeploymentThatAnswered(t *testing.T) {
	wantAnswer(t, routedClient(t, ""), "primary", "openai", 1)
}

func TestClientFallsBackToAnotherDeploymentAfterServerErrors(t *testing.T) {
	c := routedClient(t, "status=500")
	wantAnswer(t, c, "backup", "anthropic", 3)
	var paths []string
	for _, req := range requestLog(t) {
		paths = append(paths, req.Path)
	}
	if want := "[/v1/chat/completions /v1/chat/completions /v1/messages]"; fmt.Sprint(paths) != want {
		t.Errorf("the upstream got %v, want %s", paths, want)
	}
	// The breakers are the deployments'.
	s, err := c.BreakerStats("primary")
	if err != nil || s.Calls != 2 || s.Failures != 2 {
		t.Errorf("BreakerStats(primary) = %+v, %v; want 2 calls, 2 failures", s, err)
	}
	if s, err := c.BreakerStats("backup"); err != nil || s.Calls != 1 || s.Failures != 0 {
		t.Errorf("BreakerStats(backup) = %+v, %v; want 1 call, no failure", s, err)
	}
}

func TestClientRefusesAGroupNoDeploymentServes(t *testing.T) {
	c := routedClient(t, "")
	_, err := c.Chat(context.Background(), helloTo("nowhere"), nil)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("a call for the group nowhere: %v, want ErrNotFound", err)
	}
	if n := len(requestLog(t)); n != 0 {
		t.Errorf("the upstream got %d requests, want none", n)
	}
}
