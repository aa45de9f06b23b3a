package llmkit

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Reasoning blocks across turns: read from an answer, sent back with
// AddResponse, and rebuilt from a stored conversation.

func TestResponseThinkingAndSignaturesAsRecorded(t *testing.T) {
	var want struct {
		Thinking []struct {
			Text      string `json:"text"`
			Signature string `json:"signature"`
		} `json:"thinking"`
	}
	b, err := os.ReadFile(filepath.Join(fixturesDir, "anthropic", "thinking.expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil || len(want.Thinking) != 1 {
		t.Fatalf("thinking.expected.json: %v", err)
	}
	body, err := os.ReadFile(filepath.Join(fixturesDir, "anthropic", "thinking.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseResponse("anthropic", body, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := (Thinking{Text: want.Thinking[0].Text, Signature: want.Thinking[0].Signature}); !reflect.DeepEqual(res.Thinking, []Thinking{got}) {
		t.Errorf("Thinking = %+v, want %+v", res.Thinking, got)
	}
	if res.Reasoning != want.Thinking[0].Text {
		t.Errorf("Reasoning = %q", res.Reasoning)
	}

	body, err = os.ReadFile(filepath.Join(fixturesDir, "gemini", "stream_function_call.sse"))
	if err != nil {
		t.Fatal(err)
	}
	res, err = ParseResponse("gemini", body, true)
	if err != nil || len(res.ToolCalls) != 1 || len(res.ToolCalls[0].Signature) < 100 || res.Thinking != nil {
		t.Errorf("ParseResponse(gemini stream) = %+v, %v; want one signed call, no thinking", res, err)
	}
}

func TestRequestAddResponseSendsTheThinkingBackBeforeTheToolUse(t *testing.T) {
	c := newTestClient(t, "anthropic")
	req := &Request{Model: "m", ThinkingBudget: Ptr(1024), Tools: []Tool{{Name: "get_user_country"}},
		Messages: []Message{UserMessage("What is the largest city in the user country?")}}
	res, err := c.Chat(context.Background(), req, optionsWith(t, "header.x-upstream-fixture", "anthropic/tool_use_with_thinking"))
	if err != nil {
		t.Fatal(err)
	}
	if err := req.AddResponse(res); err != nil {
		t.Fatal(err)
	}
	req.Messages = append(req.Messages, ToolResultMessage(res.ToolCalls[0].ID, "Mexico"))
	if _, err := c.Chat(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	// The assistant turn is the recorded content, block for block.
	var recorded struct {
		Content []any `json:"content"`
	}
	b, err := os.ReadFile(filepath.Join(fixturesDir, "anthropic", "tool_use_with_thinking.json"))
	if err != nil || json.Unmarshal(b, &recorded) != nil {
		t.Fatal(err)
	}
	turn := lastBody(t)["messages"].([]any)[1].(map[string]any)
	if got, want := jsonOf(t, turn["content"]), jsonOf(t, recorded.Content); got != want {
		t.Errorf("the turn sent back is\n %s\nwant\n %s", got, want)
	}

	for _, bad := range []*Response{nil, {Status: StatusRateLimited}, {FinishReason: FinishNone, Text: "cut"}, {FinishReason: FinishStop}} {
		if err := req.AddResponse(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("AddResponse(%+v) = %v", bad, err)
		}
	}
}

func TestRequestThinkingOfAStoredTurnGoesBackOnItsParts(t *testing.T) {
	c := newTestClient(t, "gemini")
	req := &Request{Model: "gemini-3-pro-preview", Messages: []Message{
		UserMessage("Capital of the user country?"),
		{Role: RoleAssistant, Content: []Part{TextPart("Let me check.")},
			Thinking: []Thinking{{Text: "I need the country.", Signature: "th-sig"}, {Signature: "text-sig"},
				{Signature: "anthropic-data", Redacted: true}},
			ToolCalls: []ToolCall{{ID: "call_0", Name: "get_country", Arguments: "{}", Signature: "call-sig"}}},
		ToolResultMessage("call_0", "Mexico"),
	}}
	if _, err := c.Chat(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	turn := lastBody(t)["contents"].([]any)[1]
	want := `{"parts":[{"text":"I need the country.","thought":true,"thoughtSignature":"th-sig"},` +
		`{"text":"Let me check.","thoughtSignature":"text-sig"},` +
		`{"functionCall":{"args":{},"name":"get_country"},"thoughtSignature":"call-sig"}],"role":"model"}`
	if got := jsonOf(t, turn); got != want {
		t.Errorf("the stored turn went back as\n %s\nwant\n %s", got, want)
	}

	req.Messages[0].Thinking = []Thinking{{Text: "a user's?"}}
	if _, err := c.Chat(context.Background(), req, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("thinking on a user message: %v", err)
	}
}
