// The whole call pipeline from Go, line for line the output of
// examples/c/pipeline.c: one hooks set in two scopes, a client routing
// among two deployments with a fallback rule, a response cache, a
// per-caller rate limit, a retry after a 429, a fallback after a 500, a
// stream's time to first token, and what each call cost. Run against
// test/upstream/upstream.py (examples/with_upstream.sh starts one).
//
// Usage: go run ./pipeline http://127.0.0.1:PORT [--timing]
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"llmkit"
)

func main() {
	args := os.Args[1:]
	if len(args) < 1 || len(args) > 2 || (len(args) == 2 && args[1] != "--timing") {
		fmt.Fprintln(os.Stderr, "usage: pipeline http://127.0.0.1:PORT [--timing]   (test/upstream/upstream.py)")
		os.Exit(2)
	}
	if err := run(args[0], len(args) == 2); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}

func run(base string, timing bool) error {
	// Hooks in two scopes, and one global.
	hooks, err := llmkit.NewHooks(nil)
	if err != nil {
		return err
	}
	defer hooks.Close() // defers run last first: the clients close before it
	named := []struct {
		name        string
		kind        llmkit.HookKind
		scope, rule string
		fn          llmkit.HookFunc
	}{
		{"global/tag", llmkit.HookBefore, "", "", func(e *llmkit.HookEvent) error { return e.SetMeta("team", "search") }},
		{"production/audit", llmkit.HookAfter, "production", "meta.team:search", audit("production/audit")},
		{"production/limited", llmkit.HookError, "production", "status:rate_limited", failed("production/limited")},
		{"evaluation/grade", llmkit.HookAfter, "evaluation", "tag:graded", audit("evaluation/grade")},
	}
	ids := make([]uint64, len(named))
	for i, h := range named {
		if ids[i], err = hooks.Add(h.kind, h.scope, h.rule, 0, h.fn); err != nil {
			return err
		}
	}

	// A cache, and two calls a minute per caller: made before the clients,
	// closed after them.
	cache, err := llmkit.NewCache(nil)
	if err != nil {
		return err
	}
	defer cache.Close()
	limits, err := options("requests", "2")
	if err != nil {
		return err
	}
	defer limits.Close()
	limiter, err := llmkit.NewRateLimiter(limits)
	if err != nil {
		return err
	}
	defer limiter.Close()

	prod, err := client(base, "production")
	if err != nil {
		return err
	}
	defer prod.Close()
	eval, err := client(base, "evaluation")
	if err != nil {
		return err
	}
	defer eval.Close()
	for _, c := range []*llmkit.Client{prod, eval} {
		if err := c.SetHooks(hooks); err != nil {
			return err
		}
	}
	if err := prod.SetCache(cache); err != nil {
		return err
	}

	p := &printer{timing: timing}
	fmt.Println("== production client: deployments primary (OpenAI) and backup (Anthropic)")
	p.call(prod, "a call", "Say hello.", false)
	p.call(prod, "the same call again", "Say hello.", false)
	p.call(prod, "a 429 once, then a retry", "Say hello twice.", false,
		"header.x-upstream-fault", "status=429,retry_after_ms=50,times=1,id=demo-429")
	p.call(prod, "a 500 on both tries of primary, then the fallback", "Say hello thrice.", false,
		"header.x-upstream-fault", "status=500,times=2,id=demo-500")
	p.call(prod, "a stream", "Count to three.", true)
	if p.err == nil {
		p.err = prod.SetRateLimiter(limiter) // for the calls from now on
	}
	p.call(prod, "alice, call 1 of 2 a minute", "Hi from alice.", false, "caller", "alice", "cache", "bypass")
	p.call(prod, "alice, call 2", "Hi from alice.", false, "caller", "alice", "cache", "bypass")
	p.call(prod, "alice, call 3", "Hi from alice.", false, "caller", "alice", "cache", "bypass")
	p.call(prod, "bob, call 1", "Hi from bob.", false, "caller", "bob", "cache", "bypass")
	fmt.Println("== evaluation client: same hooks, its own scope")
	p.call(eval, "a graded call", "Say hello.", false, "tags", "graded")
	if p.err != nil {
		return p.err
	}

	fmt.Println("== hook stats")
	for i, h := range named {
		s, err := hooks.Stats(ids[i])
		if err != nil {
			return err
		}
		fmt.Printf("%-19s %d calls, %d errors\n", h.name, s.Calls, s.Errors)
	}
	return nil
}

// client is a client in scope: two deployments on the upstream, "chat"
// falling back to "backup" on server errors, rate limits and overload.
func client(base, scope string) (*llmkit.Client, error) {
	deployments := fmt.Sprintf(`[
	  {"name": "primary", "provider": "openai", "base_url": "%s/v1",
	   "api_key": "sk-demo", "model": "gpt-4o-mini", "group": "chat"},
	  {"name": "backup", "provider": "anthropic", "base_url": "%s",
	   "api_key": "sk-demo", "model": "claude-3-5-haiku-latest"}]`, base, base)
	o, err := options("deployments", deployments,
		"fallbacks", `[{"from": "chat", "to": ["backup"], "on": ["server", "rate_limited", "overloaded"]}]`,
		"scopes", scope, "retry.attempts", "2", "retry.base_ms", "20")
	if err != nil {
		return nil, err
	}
	defer o.Close() // the client keeps a copy
	return llmkit.NewClient(o)
}

// printer makes calls and prints how each went. A call's failure is its
// outcome, printed; any other error sticks in err and skips the calls after.
type printer struct {
	timing bool // print the time to the first token (varies run to run)
	err    error
}

// call asks the group "chat" for prompt; kv are the call's options.
func (p *printer) call(c *llmkit.Client, what, prompt string, stream bool, kv ...string) {
	if p.err != nil {
		return
	}
	opts, err := options(kv...)
	if err != nil {
		p.err = err
		return
	}
	defer opts.Close()
	fmt.Println(what)
	req := &llmkit.Request{Model: "chat", Messages: []llmkit.Message{llmkit.UserMessage(prompt)}}
	pieces := 0
	var r *llmkit.Response
	if stream {
		r, err = c.ChatStream(context.Background(), req, opts, func(ch llmkit.Chunk) error {
			if ch.Kind == llmkit.ChunkText {
				pieces++
			}
			return nil
		})
	} else {
		r, err = c.Chat(context.Background(), req, opts)
	}
	if err != nil {
		fmt.Printf("  %s\n", hintless(err.Error()))
		return
	}
	by, tries := r.Deployment, "tries"
	if r.Cached {
		by = "from the cache"
	}
	if r.Attempts == 1 {
		tries = "try"
	}
	fmt.Printf("  ok: %s, %d %s, $%.6f", by, r.Attempts, tries, r.Cost)
	if stream {
		fmt.Printf(", %d pieces", pieces)
	}
	if stream && p.timing {
		fmt.Printf(", first token after %.2f ms", float64(r.FirstToken)/float64(time.Millisecond))
	}
	fmt.Println()
}

// audit is a hook printing who answered a call and what it cost.
func audit(label string) llmkit.HookFunc {
	return func(e *llmkit.HookEvent) error {
		r := e.Response()
		if r.Cached {
			fmt.Printf("    hook %s: answered by the cache, $%.6f (cached)\n", label, r.Cost)
		} else {
			fmt.Printf("    hook %s: answered by %s, $%.6f\n", label, r.Deployment, r.Cost)
		}
		return nil
	}
}

// failed is a hook printing why a call failed.
func failed(label string) llmkit.HookFunc {
	return func(e *llmkit.HookEvent) error {
		fmt.Printf("    hook %s: %s\n", label, hintless(e.Message()))
		return nil
	}
}

// hintless is message without its retry hint, which varies from run to run.
func hintless(message string) string {
	m, _, _ := strings.Cut(message, ": retry after")
	return m
}

// options are key/value pairs as Options, for the caller to close.
func options(kv ...string) (*llmkit.Options, error) {
	o, err := llmkit.NewOptions()
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if err := o.Set(kv[i], kv[i+1]); err != nil {
			o.Close()
			return nil, err
		}
	}
	return o, nil
}
