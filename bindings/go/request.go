package llmkit

import (
	"fmt"
	"strconv"
	"strings"

	"llmkit/internal/raw"
)

// Request is a chat request, a plain Go value: build it once and send it
// any number of times, from any number of goroutines. Each call turns it
// into the library's request (llmkit_request) for that call only.
//
// Zero values mean "not set": the provider's default applies. The numbers
// whose zero is a real value (Temperature, TopP, Seed, ThinkingBudget) are
// pointers; Ptr makes one.
type Request struct {
	// Model names the model; "" takes the client's "model" option.
	Model string
	// System is the system prompt.
	System string
	// CacheSystem marks a prompt-cache breakpoint after the system prompt.
	CacheSystem bool
	// Messages are the conversation, in order.
	Messages []Message
	// Tools are the tools the model may call.
	Tools []Tool
	// ToolChoice is "auto", "none", "required" or a tool's name.
	ToolChoice string
	// ResponseFormat is "text", "json", or a JSON schema (an object) the
	// answer must follow.
	ResponseFormat string
	Temperature    *float64
	TopP           *float64
	MaxTokens      int // 0: the provider's default (Anthropic: 4096)
	Seed           *int64
	// ThinkingBudget is tokens of reasoning: Anthropic thinking, Gemini
	// thinkingConfig, Ollama think. OpenAI takes none (ErrUnsupported):
	// put {"reasoning_effort": ...} in Extra.
	ThinkingBudget *int
	// Stop sequences end the answer.
	Stop []string
	// Extra is a JSON object merged into the provider's body, member by
	// member, for provider-specific parameters.
	Extra string
}

// Ptr returns a pointer to v, for the optional numbers of a Request:
// Temperature: llmkit.Ptr(0.2).
func Ptr[T any](v T) *T { return &v }

// Role is who speaks a message.
type Role string

const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	// RoleTool is the result of a tool call: ToolCallID names the call and
	// the text parts of Content are the result.
	RoleTool Role = "tool"
)

// Message is one turn of the conversation.
type Message struct {
	Role Role
	// Content is the message's text and images, in order.
	Content []Part
	// ToolCalls are the calls the model made (RoleAssistant only), as its
	// answer's Response.ToolCalls gave them, signatures included.
	ToolCalls []ToolCall
	// Thinking is the reasoning of the answer this message is (RoleAssistant
	// only), as Response.Thinking gave it: Anthropic gets the blocks first
	// in the message, Gemini each on the part it came with, OpenAI and
	// Ollama none.
	Thinking []Thinking
	// ToolCallID is the call a RoleTool message answers.
	ToolCallID string
	// CacheBreakpoint marks a prompt-cache breakpoint after this message:
	// Anthropic caches up to the marks; OpenAI and Gemini cache on their
	// own and ignore them.
	CacheBreakpoint bool
}

// Part is a piece of a message: a text or an image.
type Part struct {
	Text string
	// ImageURL is an http(s) URL or a data: URL
	// ("data:image/png;base64,..."); Gemini and Ollama take only data: URLs.
	// When set, the part is an image and Text is ignored.
	ImageURL string
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string // "" for none
	// Parameters is the JSON schema of its arguments (an object); "" for none.
	Parameters string
}

// UserMessage is a user's message of one text.
func UserMessage(text string) Message { return Message{Role: RoleUser, Content: []Part{{Text: text}}} }

// AssistantMessage is an earlier answer of the model, of one text.
func AssistantMessage(text string) Message {
	return Message{Role: RoleAssistant, Content: []Part{{Text: text}}}
}

// ToolResultMessage is the result of the tool call callID.
func ToolResultMessage(callID, content string) Message {
	return Message{Role: RoleTool, ToolCallID: callID, Content: []Part{{Text: content}}}
}

// AddResponse appends resp's turn to r.Messages as an assistant message:
// its text, reasoning blocks and tool calls with their signatures, as they
// came, so that tool results can follow and the conversation go on
// (llmkit_request_add_response). Anthropic with thinking on, and Gemini 3,
// refuse a tool-use turn sent back without them. An error answer, one that
// did not finish (a cut stream) or one with nothing to add is an error
// matching ErrInvalidArgument, and r is left as it was.
func (r *Request) AddResponse(resp *Response) error {
	switch {
	case resp == nil:
		return &Error{StatusInvalidArgument, "llmkit: AddResponse needs a Response, not nil"}
	case resp.Status != StatusOK:
		return &Error{StatusInvalidArgument, "llmkit: an error answer is no turn to add (" + resp.Status.String() + ")"}
	case resp.FinishReason == FinishNone:
		return &Error{StatusInvalidArgument, "llmkit: the answer did not finish (a cut stream): no turn to add"}
	case resp.Text == "" && len(resp.Thinking) == 0 && len(resp.ToolCalls) == 0:
		return &Error{StatusInvalidArgument, "llmkit: the answer has no text, thinking or tool call to add"}
	}
	m := Message{
		Role:      RoleAssistant,
		Thinking:  append([]Thinking(nil), resp.Thinking...),
		ToolCalls: append([]ToolCall(nil), resp.ToolCalls...),
	}
	if resp.Text != "" {
		m.Content = []Part{TextPart(resp.Text)}
	}
	r.Messages = append(r.Messages, m)
	return nil
}

// TextPart is a text part of a message.
func TextPart(text string) Part { return Part{Text: text} }

// ImagePart is an image part of a message, by URL or data: URL.
func ImagePart(url string) Part { return Part{ImageURL: url} }

// builder turns a Request into an llmkit_request, one C call at a time,
// stopping at the first failure: the library judges every value (UTF-8,
// JSON objects, numbers), Go only the NUL bytes C would cut short.
type builder struct {
	h   uintptr
	err error
}

func (b *builder) ok(what string, values ...string) bool {
	if b.err != nil {
		return false
	}
	for _, v := range values {
		if i := strings.IndexByte(v, 0); i >= 0 {
			b.err = &Error{StatusInvalidArgument, fmt.Sprintf("%s has a NUL byte (byte offset %d)", what, i)}
			return false
		}
	}
	return true
}

func (b *builder) set(key, value string) {
	if b.ok(key, value) {
		b.err = check(raw.Request_set(b.h, key, value))
	}
}

// newRequest builds r's llmkit_request; the caller frees it with
// raw.Request_free.
func newRequest(r *Request) (uintptr, error) {
	if r == nil {
		return 0, &Error{StatusInvalidArgument, "llmkit: a call needs a Request, not nil"}
	}
	b := builder{}
	if err := check(raw.Request_new(&b.h)); err != nil {
		return 0, err
	}
	if r.Model != "" {
		b.set("model", r.Model)
	}
	if r.System != "" {
		b.set("system", r.System)
	}
	if r.CacheSystem && b.ok("") {
		b.err = check(raw.Request_cache_breakpoint(b.h))
	}
	for i := range r.Messages {
		b.message(i, &r.Messages[i])
	}
	for i, t := range r.Tools {
		b.tool(i, t)
	}
	if r.ToolChoice != "" {
		b.set("tool_choice", r.ToolChoice)
	}
	if r.ResponseFormat != "" {
		b.set("response_format", r.ResponseFormat)
	}
	if r.Temperature != nil {
		b.set("temperature", strconv.FormatFloat(*r.Temperature, 'g', -1, 64))
	}
	if r.TopP != nil {
		b.set("top_p", strconv.FormatFloat(*r.TopP, 'g', -1, 64))
	}
	if r.MaxTokens != 0 {
		b.set("max_tokens", strconv.Itoa(r.MaxTokens))
	}
	if r.Seed != nil {
		b.set("seed", strconv.FormatInt(*r.Seed, 10))
	}
	if r.ThinkingBudget != nil {
		b.set("thinking_budget", strconv.Itoa(*r.ThinkingBudget))
	}
	for i, s := range r.Stop {
		if b.ok(fmt.Sprintf("Stop[%d]", i), s) {
			b.err = check(raw.Request_add_stop(b.h, s))
		}
	}
	if r.Extra != "" {
		b.set("extra", r.Extra)
	}
	if b.err != nil {
		raw.Request_free(b.h)
		return 0, b.err
	}
	return b.h, nil
}

func (b *builder) message(i int, m *Message) {
	what := fmt.Sprintf("Messages[%d]", i)
	if m.Role == RoleTool {
		var text strings.Builder
		for _, p := range m.Content {
			if p.ImageURL != "" {
				b.err = &Error{StatusInvalidArgument, what + ": a tool result holds text only, not images"}
				return
			}
			text.WriteString(p.Text)
		}
		if len(m.ToolCalls) > 0 || len(m.Thinking) > 0 {
			b.err = &Error{StatusInvalidArgument, what + ": a tool result makes no tool calls and has no thinking"}
			return
		}
		if b.ok(what, m.ToolCallID, text.String()) {
			b.err = check(raw.Request_add_tool_result(b.h, m.ToolCallID, text.String()))
		}
	} else {
		// The first part, when a text, opens the message; "" adds no part.
		parts := m.Content
		first := ""
		if len(parts) > 0 && parts[0].ImageURL == "" {
			first, parts = parts[0].Text, parts[1:]
		}
		if !b.ok(what, string(m.Role), first) {
			return
		}
		if b.err = check(raw.Request_add_message(b.h, string(m.Role), first)); b.err != nil {
			return
		}
		for _, p := range parts {
			if p.ImageURL != "" {
				if b.ok(what+" image", p.ImageURL) {
					b.err = check(raw.Request_add_image(b.h, p.ImageURL))
				}
			} else if b.ok(what, p.Text) {
				b.err = check(raw.Request_add_text(b.h, p.Text))
			}
		}
		for _, t := range m.Thinking {
			if b.ok(what+" thinking", t.Text, t.Signature) {
				redacted := 0
				if t.Redacted {
					redacted = 1
				}
				b.err = check(raw.Request_add_thinking(b.h, t.Text, t.Signature, redacted))
			}
		}
		for _, c := range m.ToolCalls {
			if b.ok(what+" tool call", c.ID, c.Name, c.Arguments, c.Signature) {
				b.err = check(raw.Request_add_tool_call(b.h, c.ID, c.Name, orEmptyObject(c.Arguments)))
			}
			if c.Signature != "" && b.ok(what+" tool call") {
				b.err = check(raw.Request_set_tool_call_signature(b.h, c.Signature))
			}
		}
	}
	if m.CacheBreakpoint && b.ok(what) {
		b.err = check(raw.Request_cache_breakpoint(b.h))
	}
}

// orEmptyObject: a call without arguments has {} as its arguments.
func orEmptyObject(args string) string {
	if args == "" {
		return "{}"
	}
	return args
}

func (b *builder) tool(i int, t Tool) {
	if !b.ok(fmt.Sprintf("Tools[%d]", i), t.Name, t.Description, t.Parameters) {
		return
	}
	b.err = check(raw.Request_add_tool(b.h, t.Name, t.Description, t.Parameters))
}
