package llmkit_test

import (
	"context"
	"errors"
	"fmt"

	"llmkit"
)

func ExampleHooks() {
	hooks, err := llmkit.NewHooks(nil)
	if err != nil {
		panic(err)
	}
	defer hooks.Close()
	// Calls tagged "canned" are answered here: no request leaves.
	hooks.Add(llmkit.HookBefore, "", "tag:canned", 0, func(e *llmkit.HookEvent) error {
		return e.Answer("canned answer for " + e.Model())
	})
	audit, _ := hooks.Add(llmkit.HookAfter, "", "", 0, func(e *llmkit.HookEvent) error {
		fmt.Println("after:", e.Response().Text)
		return errors.New("the audit log is full") // counted; the call goes on
	})

	opts, _ := llmkit.NewOptions()
	opts.Set("provider", "openai")
	opts.Set("api_key", "sk-unused")
	opts.Set("base_url", "http://127.0.0.1:1/v1") // never reached
	client, err := llmkit.NewClient(opts)
	opts.Close()
	if err != nil {
		panic(err)
	}
	defer client.Close()
	client.SetHooks(hooks)

	call, _ := llmkit.NewOptions()
	defer call.Close()
	call.Set("tags", "canned")
	req := &llmkit.Request{Model: "gpt-4o-mini", Messages: []llmkit.Message{llmkit.UserMessage("Hi")}}
	res, err := client.Chat(context.Background(), req, call)
	fmt.Println(res.Text, err)
	s, _ := hooks.Stats(audit)
	fmt.Println(s.Calls, s.Errors, s.LastError)
	// Output:
	// after: canned answer for gpt-4o-mini
	// canned answer for gpt-4o-mini <nil>
	// 1 1 the audit log is full
}
