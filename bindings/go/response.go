package llmkit

import (
	"fmt"
	"math"
	"time"

	"llmkit/internal/raw"
)

// Response is a provider's answer, normalised (docs/providers.md): the
// same fields whatever the provider. It is plain Go memory, copied from
// the library's response, which is freed before the call returns.
type Response struct {
	// Text is the answer's text parts, concatenated in order ("" for an
	// error); a refusal's text when FinishReason is FinishRefusal.
	Text string
	// Reasoning is the thinking text ("" when none).
	Reasoning string
	// Thinking is Anthropic's and Gemini's reasoning blocks, in order:
	// what Request.AddResponse sends back on the next turn.
	Thinking []Thinking
	// FinishReason is why the model stopped; FinishReasonRaw the
	// provider's own value ("end_turn", "STOP" ...).
	FinishReason    FinishReason
	FinishReasonRaw string
	Usage           Usage
	// ToolCalls are the calls the model asked for, in order.
	ToolCalls []ToolCall
	// Model and ID are the provider's; Provider is that of the
	// deployment that answered ("openai", "anthropic" ...).
	Model    string
	ID       string
	Provider string
	// Deployment is the deployment that answered, or gave the last failure:
	// its name in the client's "deployments" (docs/routing.md), or the model
	// of the client's own provider.
	Deployment string

	// Status is the outcome: StatusOK, or the status of the error.
	Status Status
	// HTTPStatus is the answer's HTTP status (0 for ParseResponse).
	HTTPStatus int
	// RetryAfter is how long the provider asked to wait before trying
	// again (Retry-After, retry-after-ms, Gemini's retryDelay); negative
	// when it gave no hint.
	RetryAfter time.Duration
	// ErrorMessage is the provider's message of an error answer;
	// ErrorDetail "context_length_exceeded", "overloaded" or "".
	ErrorMessage string
	ErrorDetail  string

	// Latency is the whole call's time.
	Latency time.Duration
	// FirstToken is the time to the first streamed piece; negative when
	// the answer was not streamed or had no piece.
	FirstToken time.Duration
	// MaxGap is the longest pause between two streamed pieces.
	MaxGap time.Duration
	// Chunks is the number of streamed pieces.
	Chunks int
	// OutputTokensPerSecond is output tokens per second after the first
	// token.
	OutputTokensPerSecond float64
	// Attempts is how many tries the call took, retries included (1 for
	// an answer from the cache or a hook).
	Attempts int
	// Cached says the answer came from the client's cache (SetCache).
	Cached bool

	// Cost is the answer's cost in US dollars, from the client's price
	// table (docs/cost.md): 0 for an answer no provider was paid for (a
	// before hook's); negative when the model has no price (HasCost).
	Cost float64

	// Raw is the answer's body, with the call option "raw" = "true"; nil
	// otherwise.
	Raw []byte
	// JSON is the normalised answer as one JSON object, the form of
	// docs/providers.md and `llmkit replay`.
	JSON []byte
}

// HasCost says whether the model has a price, and so Cost is the answer's.
func (r *Response) HasCost() bool { return r.Cost >= 0 }

// Usage counts an answer's tokens. Cached and cache-write tokens are parts
// of InputTokens (the uncached rest is Input - CachedInput - CacheWrite);
// ReasoningTokens is the part of OutputTokens spent thinking.
type Usage struct {
	InputTokens       int64
	OutputTokens      int64
	CachedInputTokens int64
	CacheWriteTokens  int64
	ReasoningTokens   int64
}

// ToolCall is a call the model asked for.
type ToolCall struct {
	// ID is the provider's ("call_N", N from 0, when it gives none).
	ID   string
	Name string
	// Arguments is the JSON text of the arguments (an object).
	Arguments string
	// Signature is Gemini's thoughtSignature on the call ("" for none),
	// which Gemini 3 needs back with the call on the next turn.
	Signature string
}

// Thinking is a block of reasoning as Anthropic or Gemini sent it
// (docs/providers.md, "Multi-turn with thinking"). The provider checks it
// when it comes back: keep every field as it is.
type Thinking struct {
	// Text is the thinking text: "" for a redacted block, or for a
	// signature Gemini put on a text part.
	Text string
	// Signature is the provider's opaque signature; a redacted block's data.
	Signature string
	// Redacted marks Anthropic's redacted_thinking.
	Redacted bool
}

// FinishReason is why the model stopped; values match llmkit_finish_reason.
type FinishReason int

const (
	FinishNone FinishReason = iota // not finished: no answer, or a cut stream
	FinishStop
	FinishLength
	FinishToolCalls
	FinishContentFilter
	FinishRefusal
	FinishError
)

// String is the library's name for r: "stop", "length", "tool_calls",
// "content_filter", "refusal", "error" or "none".
func (r FinishReason) String() string {
	return raw.Finish_reason_str(raw.Enum_SS_llmkit_finish_reason(r))
}

// ChunkKind is what a streamed piece carries; values match
// llmkit_chunk_kind.
type ChunkKind int

const (
	ChunkText      ChunkKind = iota
	ChunkReasoning           // thinking text
	ChunkToolCall            // a piece of a tool call's arguments
)

// String is "text", "reasoning" or "tool_call".
func (k ChunkKind) String() string {
	switch k {
	case ChunkText:
		return "text"
	case ChunkReasoning:
		return "reasoning"
	case ChunkToolCall:
		return "tool_call"
	}
	return fmt.Sprintf("ChunkKind(%d)", int(k))
}

// Chunk is one piece of a streamed answer.
type Chunk struct {
	Kind ChunkKind
	// Text is the piece's text: answer text, thinking, or a piece of a
	// tool call's arguments.
	Text string
	// ToolIndex is a tool call's position in the answer; ToolID and
	// ToolName are set on its first piece only. 0 and "" for other kinds.
	ToolIndex int
	ToolID    string
	ToolName  string
}

// readResponse copies the library's response h into Go memory. Every name
// is one the library knows, so the lookups cannot fail.
func readResponse(h uintptr) *Response {
	text := func(field string) string {
		var s string
		raw.Response_get(h, field, &s)
		return s
	}
	number := func(field string) float64 {
		var v float64
		raw.Response_number(h, field, &v)
		return v
	}
	ms := func(field string) time.Duration {
		v := number(field)
		if v < 0 {
			return -1
		}
		return time.Duration(math.Round(v * float64(time.Millisecond)))
	}
	r := &Response{
		Text:            text("text"),
		Reasoning:       text("reasoning"),
		FinishReason:    FinishReason(raw.Response_finish_reason(h)),
		FinishReasonRaw: text("finish_reason_raw"),
		Usage: Usage{
			InputTokens:       int64(number("input_tokens")),
			OutputTokens:      int64(number("output_tokens")),
			CachedInputTokens: int64(number("cached_input_tokens")),
			CacheWriteTokens:  int64(number("cache_write_tokens")),
			ReasoningTokens:   int64(number("reasoning_tokens")),
		},
		Model:                 text("model"),
		ID:                    text("id"),
		Provider:              text("provider"),
		Deployment:            text("deployment"),
		Status:                Status(number("status")),
		HTTPStatus:            int(number("http_status")),
		RetryAfter:            ms("retry_after_ms"),
		ErrorMessage:          text("error.message"),
		ErrorDetail:           text("error.detail"),
		Latency:               ms("latency_ms"),
		FirstToken:            ms("first_token_ms"),
		MaxGap:                ms("max_gap_ms"),
		Chunks:                int(number("chunks")),
		OutputTokensPerSecond: number("output_tokens_per_second"),
		Attempts:              int(number("attempts")),
		Cached:                number("cached") == 1,
		Cost:                  number("cost_usd"),
	}
	if s := text("raw"); s != "" {
		r.Raw = []byte(s)
	}
	// cgo checks the whole Go object an out-parameter points into, so each
	// is a variable of its own, never a field of r (which holds pointers).
	var j []byte
	raw.Response_json(h, &j)
	r.JSON = j
	if n := int(number("tool_calls")); n > 0 {
		r.ToolCalls = make([]ToolCall, n)
		for i := range r.ToolCalls {
			var id, name, args, signature string
			raw.Response_tool_call(h, int64(i), &id, &name, &args)
			raw.Response_tool_call_signature(h, int64(i), &signature)
			r.ToolCalls[i] = ToolCall{ID: id, Name: name, Arguments: args, Signature: signature}
		}
	}
	if n := int(number("thinking")); n > 0 {
		r.Thinking = make([]Thinking, n)
		for i := range r.Thinking {
			var text, signature string
			var redacted bool
			raw.Response_thinking(h, int64(i), &text, &signature, &redacted)
			r.Thinking[i] = Thinking{Text: text, Signature: signature, Redacted: redacted}
		}
	}
	return r
}
