package llmkit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"llmkit"
)

func ExampleClient() {
	opts, _ := llmkit.NewOptions()
	opts.Set("provider", "anthropic") // the key: ANTHROPIC_API_KEY, or "api_key"
	opts.Set("model", "claude-sonnet-4-5")
	client, err := llmkit.NewClient(opts)
	opts.Close() // the client has its own copy
	if err != nil {
		panic(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := &llmkit.Request{
		System:    "Answer in one sentence.",
		Messages:  []llmkit.Message{llmkit.UserMessage("Why is the sky blue?")},
		MaxTokens: 200,
	}
	res, err := client.ChatStream(ctx, req, nil, func(c llmkit.Chunk) error {
		if c.Kind == llmkit.ChunkText {
			fmt.Print(c.Text) // as it arrives
		}
		return nil
	})
	var re *llmkit.ResponseError
	switch {
	case errors.Is(err, llmkit.ErrRateLimited) && errors.As(err, &re):
		fmt.Println("retry in", re.Response.RetryAfter)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Printf("\n%s, %d tokens, the first after %v\n", res.FinishReason, res.Usage.OutputTokens, res.FirstToken)
	}
}

func ExampleParseResponse() {
	body := []byte(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",` +
		`"content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],` +
		`"stop_reason":"tool_use","usage":{"input_tokens":12,"output_tokens":9}}`)
	res, err := llmkit.ParseResponse("anthropic", body, false)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.FinishReason, res.FinishReasonRaw, res.Usage.InputTokens, res.Usage.OutputTokens)
	for _, c := range res.ToolCalls {
		fmt.Println(c.ID, c.Name, c.Arguments)
	}

	_, err = llmkit.ParseResponse("openai", []byte(`{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}`), false)
	var re *llmkit.ResponseError
	if errors.As(err, &re) {
		fmt.Println(errors.Is(err, llmkit.ErrInvalidArgument), re.Response.ErrorDetail)
	}
	// Output:
	// tool_calls tool_use 12 9
	// toolu_1 get_weather {"city":"Paris"}
	// true context_length_exceeded
}
