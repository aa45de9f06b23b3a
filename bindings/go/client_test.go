package llmkit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Provider calls against test/upstream/upstream.py, the fake provider: it
// is started once, by the first test that needs it, and stopped by
// TestMain. Failing to start it fails that test: never a skip.

const testKey = "sk-test-4f1c9a-never-print-me"

var fixturesDir = filepath.Join("..", "..", "test", "fixtures")

var upstreamProc struct {
	once sync.Once
	cmd  *exec.Cmd
	url  string // http://127.0.0.1:PORT
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopUpstream()
	os.Exit(code)
}

func startUpstream() (string, error) {
	cmd := exec.Command("python3", filepath.Join("..", "..", "test", "upstream", "upstream.py"))
	// Its problems show in the test's stderr, through a pipe: a child
	// holding `go test`'s own stderr would keep it waiting after a crash.
	// A crash of the test must not leave it running either.
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("cannot start test/upstream/upstream.py: %w", err)
	}
	upstreamProc.cmd = cmd
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
		io.Copy(io.Discard, out) // nothing else comes; never block the child
	}()
	select {
	case s := <-line:
		var port int
		if _, err := fmt.Sscanf(s, "port %d\n", &port); err != nil {
			return "", fmt.Errorf("upstream.py printed %q, not \"port N\"", s)
		}
		return fmt.Sprintf("http://127.0.0.1:%d", port), nil
	case <-time.After(15 * time.Second):
		return "", errors.New("upstream.py printed no port line in 15 s")
	}
}

func stopUpstream() {
	cmd := upstreamProc.cmd
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// upstreamURL is the running upstream's address, its request log cleared.
func upstreamURL(t *testing.T) string {
	t.Helper()
	upstreamProc.once.Do(func() { upstreamProc.url, upstreamProc.err = startUpstream() })
	if upstreamProc.err != nil {
		t.Fatal(upstreamProc.err)
	}
	clearLog(t)
	return upstreamProc.url
}

type loggedRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func requestLog(t *testing.T) []loggedRequest {
	t.Helper()
	res, err := http.Get(upstreamProc.url + "/_upstream/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var log []loggedRequest
	if err := json.NewDecoder(res.Body).Decode(&log); err != nil {
		t.Fatal(err)
	}
	return log
}

func clearLog(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, upstreamProc.url+"/_upstream/requests", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func baseURL(t *testing.T, provider string) string {
	u := upstreamURL(t)
	switch provider {
	case "openai", "openai-compatible":
		return u + "/v1"
	case "gemini":
		return u + "/v1beta"
	}
	return u
}

func optionsWith(t *testing.T, kv ...string) *Options {
	t.Helper()
	o, err := NewOptions()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	for i := 0; i+1 < len(kv); i += 2 {
		if err := o.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// newTestClient is a client of provider on the upstream; kv adds options,
// or overrides them. It tries each call once ("retry.attempts" "1"), so
// that a test injecting a fault sees the faulty answer, at once.
func newTestClient(t *testing.T, provider string, kv ...string) *Client {
	t.Helper()
	o := optionsWith(t, append([]string{"provider", provider, "base_url", baseURL(t, provider), "api_key", testKey, "retry.attempts", "1"}, kv...)...)
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	o.Close() // the client has its own copy
	t.Cleanup(func() { c.Close() })
	return c
}

func hello() *Request {
	return &Request{Model: "m", Messages: []Message{UserMessage("Hello")}}
}

// expected is a fixture's *.expected.json.
type expected struct {
	Text         string `json:"text"`
	Reasoning    string `json:"reasoning"`
	FinishReason string `json:"finish_reason"`
	Usage        struct {
		Input       int64 `json:"input_tokens"`
		Output      int64 `json:"output_tokens"`
		CachedInput int64 `json:"cached_input_tokens"`
		CacheWrite  int64 `json:"cache_write_tokens"`
		Reasoning   int64 `json:"reasoning_tokens"`
	} `json:"usage"`
	ToolCalls []struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"tool_calls"`
}

func expectedOf(t *testing.T, fixture string) expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir, fixture+".expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

var providers = []struct{ name, whole, stream string }{
	{"openai", "openai/chat_completion_text", "openai/stream_text_usage"},
	{"anthropic", "anthropic/message_text", "anthropic/stream_text"},
	{"gemini", "gemini/generate_text", "gemini/stream_text"},
	{"ollama", "ollama/chat_structured_text", "ollama/stream_thinking_text"},
}

func TestClientEachProviderAnswersAWholeCall(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			c := newTestClient(t, p.name)
			res, err := c.Chat(context.Background(), hello(), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedOf(t, p.whole)
			if res.Text != want.Text || res.Reasoning != want.Reasoning {
				t.Errorf("text %q, reasoning %q; want %q, %q", res.Text, res.Reasoning, want.Text, want.Reasoning)
			}
			if got := res.FinishReason.String(); got != want.FinishReason || res.FinishReasonRaw == "" {
				t.Errorf("finish reason %s (raw %q), want %s", got, res.FinishReasonRaw, want.FinishReason)
			}
			u := want.Usage
			if wantUsage := (Usage{u.Input, u.Output, u.CachedInput, u.CacheWrite, u.Reasoning}); res.Usage != wantUsage {
				t.Errorf("usage %+v, want %+v", res.Usage, wantUsage)
			}
			if res.Provider != p.name || res.Status != StatusOK || res.HTTPStatus != 200 {
				t.Errorf("provider %q, status %s, HTTP %d", res.Provider, res.Status, res.HTTPStatus)
			}
			if res.Latency <= 0 || res.FirstToken >= 0 || res.RetryAfter >= 0 {
				t.Errorf("latency %v, first token %v (want negative: not streamed), retry after %v (want negative)", res.Latency, res.FirstToken, res.RetryAfter)
			}
			if res.Raw != nil {
				t.Errorf("Raw = %q without the \"raw\" option", res.Raw)
			}
			if res.Attempts != 1 {
				t.Errorf("attempts %d, want 1", res.Attempts)
			}
			var j struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(res.JSON, &j); err != nil || j.Text != want.Text {
				t.Errorf("JSON %s: %v", res.JSON, err)
			}
		})
	}
}

// testPrices prices the openai fixture's model, gpt-4.1-2025-04-14 (that
// is gpt-4.1), at $1 per million input tokens and $2 per million output
// tokens: its 19 and 10 tokens cost $0.000039.
const testPrices = `{"openai": {"models": {"gpt-4.1": {"input": 1, "output": 2}}}}`

const testCost = 39e-6

func TestClientCostComesFromThePriceTable(t *testing.T) {
	res, err := newTestClient(t, "openai", "prices", testPrices).Chat(context.Background(), hello(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.HasCost() || math.Abs(res.Cost-testCost) > 1e-12 {
		t.Errorf("cost %v (has %v), want %v", res.Cost, res.HasCost(), testCost)
	}
	// Ollama has no price unless given one.
	res, err = newTestClient(t, "ollama").Chat(context.Background(), hello(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.HasCost() || res.Cost >= 0 {
		t.Errorf("cost %v (has %v) for a model without a price", res.Cost, res.HasCost())
	}
}

func TestClientUsageCountsCacheAndReasoningTokens(t *testing.T) {
	for _, c := range []struct{ provider, fixture string }{
		{"anthropic", "anthropic/cache_read_write"},
		{"openai", "openai/chat_length_cached_reasoning"},
	} {
		cl := newTestClient(t, c.provider)
		res, err := cl.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fixture", c.fixture))
		if err != nil {
			t.Fatal(err)
		}
		want := expectedOf(t, c.fixture)
		u := want.Usage
		if wantUsage := (Usage{u.Input, u.Output, u.CachedInput, u.CacheWrite, u.Reasoning}); res.Usage != wantUsage {
			t.Errorf("%s: usage %+v, want %+v", c.fixture, res.Usage, wantUsage)
		}
		if res.Text != want.Text || res.FinishReason.String() != want.FinishReason {
			t.Errorf("%s: %q, %s", c.fixture, res.Text, res.FinishReason)
		}
	}
}

func TestClientStreamChunksAddUpToTheAnswer(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			c := newTestClient(t, p.name)
			var text, reasoning strings.Builder
			chunks := 0
			res, err := c.ChatStream(context.Background(), hello(), nil, func(ch Chunk) error {
				chunks++
				switch ch.Kind {
				case ChunkText:
					text.WriteString(ch.Text)
				case ChunkReasoning:
					reasoning.WriteString(ch.Text)
				default:
					t.Errorf("a %s chunk in a text answer", ch.Kind)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := expectedOf(t, p.stream)
			if text.String() != want.Text || res.Text != want.Text {
				t.Errorf("chunks add up to %q, response %q; want %q", text.String(), res.Text, want.Text)
			}
			if reasoning.String() != res.Reasoning || res.Reasoning != want.Reasoning {
				t.Errorf("reasoning chunks %q, response %q; want %q", reasoning.String(), res.Reasoning, want.Reasoning)
			}
			if chunks == 0 || res.Chunks != chunks {
				t.Errorf("%d chunks, response says %d", chunks, res.Chunks)
			}
			if res.FirstToken < 0 || res.FirstToken > res.Latency || res.MaxGap < 0 {
				t.Errorf("first token %v, latency %v, max gap %v", res.FirstToken, res.Latency, res.MaxGap)
			}
		})
	}
}

func TestClientStreamCallbackErrorStopsTheCall(t *testing.T) {
	c := newTestClient(t, "openai")
	drip := optionsWith(t, "header.x-upstream-fault", "drip=500") // the whole stream takes 6 s
	errEnough := errors.New("enough")
	chunks := 0
	start := time.Now()
	res, err := c.ChatStream(context.Background(), hello(), drip, func(Chunk) error {
		chunks++
		if chunks > 2 {
			return errEnough
		}
		return nil
	})
	if err != errEnough || res != nil {
		t.Fatalf("got %v, %v; want the callback's error itself", res, err)
	}
	if chunks != 3 {
		t.Errorf("%d chunks; want 3: none after the callback said stop", chunks)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("stopping took %v", d)
	}
}

func TestClientStreamCallbackPanicSurfacesAfterTheCall(t *testing.T) {
	c := newTestClient(t, "anthropic")
	defer func() {
		if v := recover(); v != "boom" {
			t.Errorf("recovered %v, want the callback's panic \"boom\"", v)
		}
		// The client still works: the panic did not unwind through C.
		if res, err := c.Chat(context.Background(), hello(), nil); err != nil || res.Text == "" {
			t.Errorf("Chat after the panic: %v, %v", res, err)
		}
	}()
	c.ChatStream(context.Background(), hello(), nil, func(Chunk) error { panic("boom") })
	t.Error("ChatStream returned instead of panicking")
}

func TestClientContextEndsACallEarly(t *testing.T) {
	c := newTestClient(t, "openai")
	slow := optionsWith(t, "header.x-upstream-fault", "delay=5000")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Chat(ctx, hello(), slow)
	wantContextError(t, err, ErrTimeout, context.DeadlineExceeded)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the deadline ended the call after %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = c.ChatStream(ctx, hello(), slow, func(Chunk) error { return nil })
	wantContextError(t, err, ErrCancelled, context.Canceled)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancel ended the call after %v", d)
	}

	// An ended context fails at once, without a request.
	clearLog(t)
	if _, err := c.Chat(ctx, hello(), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Chat(ended ctx) = %v", err)
	}
	if n := len(requestLog(t)); n != 0 {
		t.Errorf("%d requests for an ended context", n)
	}
}

// responseError checks err's status and returns the answer it carries.
func responseError(t *testing.T, err error, sentinel *Error) *Response {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want one matching %v", err, sentinel)
	}
	var re *ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		t.Fatalf("%v (%T) holds no response", err, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != sentinel.Status || e != re.Err {
		t.Errorf("errors.As(*Error) gave %#v", e)
	}
	if re.Response.Status != sentinel.Status || re.Response.FinishReason != FinishError || re.Response.ErrorMessage == "" {
		t.Errorf("response: status %s, finish %s, message %q", re.Response.Status, re.Response.FinishReason, re.Response.ErrorMessage)
	}
	return re.Response
}

func TestClientRateLimitedCarriesRetryAfter(t *testing.T) {
	c := newTestClient(t, "openai")
	_, err := c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fault", "status=429,retry_after=2"))
	res := responseError(t, err, ErrRateLimited)
	if res.RetryAfter != 2*time.Second || res.HTTPStatus != 429 {
		t.Errorf("retry after %v, HTTP %d; want 2s, 429", res.RetryAfter, res.HTTPStatus)
	}
	if !strings.Contains(err.Error(), "injected status") || !strings.Contains(res.ErrorMessage, "injected status") {
		t.Errorf("error %q, message %q", err, res.ErrorMessage)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("the key is in %q", err)
	}
}

func TestClientOverloadedAnthropic(t *testing.T) {
	c := newTestClient(t, "anthropic")
	_, err := c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fault", "status=529"))
	res := responseError(t, err, ErrOverloaded)
	if res.HTTPStatus != 529 || res.RetryAfter >= 0 || res.ErrorDetail != "overloaded" {
		t.Errorf("HTTP %d, retry after %v, detail %q; want 529, none, overloaded", res.HTTPStatus, res.RetryAfter, res.ErrorDetail)
	}
}

func TestClientRetryCuresATransientFailure(t *testing.T) {
	c := newTestClient(t, "openai", "retry.attempts", "3", "retry.base_ms", "5")
	res, err := c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fault", "status=503,times=1,id=go-retry"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || res.Text == "" {
		t.Errorf("attempts %d, text %q; want 2 and the answer", res.Attempts, res.Text)
	}
	if n := len(requestLog(t)); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestClientOpenCircuitFailsAtOnceWithoutARequest(t *testing.T) {
	c := newTestClient(t, "openai", "breaker.min_calls", "2", "breaker.failure_rate", "1", "breaker.open_ms", "60000")
	if _, err := c.BreakerStats("m"); !errors.Is(err, ErrNotFound) {
		t.Errorf("BreakerStats before a call = %v", err)
	}
	fail := func() {
		_, err := c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fault", "status=500"))
		responseError(t, err, ErrProviderError)
	}
	fail()
	if s, err := c.BreakerStats("m"); err != nil || s.State != BreakerClosed || s.Calls != 1 || s.Failures != 1 {
		t.Errorf("after one failure: %+v, %v", s, err)
	}
	fail()
	s, err := c.BreakerStats("m")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != BreakerOpen || s.Opened != 1 || s.Rejected != 0 || s.RetryIn <= 0 || s.RetryIn > time.Minute {
		t.Errorf("after two failures: %+v", s)
	}
	clearLog(t)
	start := time.Now()
	_, err = c.Chat(context.Background(), hello(), nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a call on the open circuit gave %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the open circuit failed the call after %v", d)
	}
	if n := len(requestLog(t)); n != 0 {
		t.Errorf("%d requests on an open circuit", n)
	}
	if s, _ := c.BreakerStats("m"); s.Rejected != 1 || s.State.String() != "open" {
		t.Errorf("after the rejected call: %+v", s)
	}
}

func TestClientTruncatedStreamIsANetworkError(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			c := newTestClient(t, p.name)
			_, err := c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fault", "truncate", "stream", "true"))
			wantError(t, err, StatusNetwork, "stream truncated")
			if !errors.Is(err, ErrNetwork) {
				t.Errorf("errors.Is(%v, ErrNetwork) = false", err)
			}
		})
	}
}

func TestClientEmbedReturnsVectorsInInputOrder(t *testing.T) {
	c := newTestClient(t, "openai")
	texts := make([]string, 3000)
	for i := range texts {
		texts[i] = fmt.Sprintf("input number %d", i)
	}
	texts[7] = "Grüße, 東京" // bytes, not runes
	emb, err := c.Embed(context.Background(), "e", texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(emb.Vectors) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(emb.Vectors), len(texts))
	}
	words := int64(0)
	for i, text := range texts {
		sum := 0
		for _, b := range []byte(text) {
			sum += int(b)
		}
		// The upstream's vector for a text is [its length, the sum of its bytes, ...].
		v := emb.Vectors[i]
		if len(v) < 2 || v[0] != float32(len(text)) || v[1] != float32(sum) {
			t.Fatalf("vector %d = %v, want [%d %d ...]", i, v, len(text), sum)
		}
		words += int64(len(strings.Fields(text)))
	}
	if emb.InputTokens != words {
		t.Errorf("InputTokens = %d, want %d (the upstream counts words)", emb.InputTokens, words)
	}
	if n := len(requestLog(t)); n != 2 {
		t.Errorf("%d requests, want 2 batches of at most 2048", n)
	}

	// No input, no request; a failing batch fails the call.
	if emb, err := c.Embed(context.Background(), "e", nil, nil); err != nil || len(emb.Vectors) != 0 {
		t.Errorf("Embed(no texts) = %v, %v", emb, err)
	}
	_, err = c.Embed(context.Background(), "e", texts, optionsWith(t, "header.x-upstream-fault", "status=500,times=1,id=go-batch"))
	if !errors.Is(err, ErrProviderError) {
		t.Errorf("a failing batch gave %v", err)
	}
}

func TestClientToolCallsFromTheFixture(t *testing.T) {
	c := newTestClient(t, "anthropic")
	want := expectedOf(t, "anthropic/tool_use")
	res, err := c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fixture", "anthropic/tool_use", "raw", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := os.ReadFile(filepath.Join(fixturesDir, "anthropic", "tool_use.json")); !bytes.Equal(res.Raw, body) {
		t.Errorf("Raw is %d bytes, not the %d of the answer", len(res.Raw), len(body))
	}
	if res.FinishReason != FinishToolCalls || len(res.ToolCalls) != len(want.ToolCalls) || len(want.ToolCalls) == 0 {
		t.Fatalf("finish %s, tool calls %+v; want tool_calls, %+v", res.FinishReason, res.ToolCalls, want.ToolCalls)
	}
	for i, w := range want.ToolCalls {
		if got := res.ToolCalls[i]; got != (ToolCall{ID: w.ID, Name: w.Name, Arguments: w.Arguments}) {
			t.Errorf("tool call %d = %+v, want %+v", i, got, w)
		}
	}

	// Streamed: the arguments arrive in pieces, the name on the first.
	var args strings.Builder
	var names, ids []string
	res, err = c.ChatStream(context.Background(), hello(),
		optionsWith(t, "header.x-upstream-fixture", "anthropic/stream_tool_use", "header.x-upstream-fault", "chunk=7"),
		func(ch Chunk) error {
			if ch.Kind == ChunkToolCall {
				args.WriteString(ch.Text)
				if ch.ToolName != "" {
					names = append(names, ch.ToolName)
					ids = append(ids, ch.ToolID)
				}
				if ch.ToolIndex != 0 {
					t.Errorf("tool index %d in an answer of one call", ch.ToolIndex)
				}
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ToolCalls) != 1 || args.String() != res.ToolCalls[0].Arguments ||
		!reflect.DeepEqual(names, []string{res.ToolCalls[0].Name}) || !reflect.DeepEqual(ids, []string{res.ToolCalls[0].ID}) {
		t.Errorf("streamed args %q, names %q, ids %q; response %+v", args.String(), names, ids, res.ToolCalls)
	}
}

// everyField is a request that sets every field OpenAI takes.
func everyField() *Request {
	return &Request{
		Model:       "gpt-test",
		System:      "Be brief.",
		CacheSystem: true,
		Messages: []Message{
			{Role: RoleUser, Content: []Part{TextPart("What is in these?"), ImagePart("https://example.com/cat.png"),
				ImagePart("data:image/png;base64,iVBORw0KGgo="), TextPart("Thanks.")}, CacheBreakpoint: true},
			{Role: RoleAssistant, Content: []Part{TextPart("Let me look.")},
				ToolCalls: []ToolCall{{ID: "call_1", Name: "lookup", Arguments: `{"q":"cat"}`}}},
			ToolResultMessage("call_1", "a cat"),
		},
		Tools: []Tool{
			{Name: "lookup", Description: "Looks things up", Parameters: `{"type":"object","properties":{"q":{"type":"string"}}}`},
			{Name: "now"},
		},
		ToolChoice:     "lookup",
		ResponseFormat: `{"type":"object","properties":{"answer":{"type":"string"}}}`,
		Temperature:    Ptr(0.25),
		TopP:           Ptr(0.5),
		MaxTokens:      300,
		Seed:           Ptr(int64(42)),
		Stop:           []string{"END", "STOP"},
		Extra:          `{"user":"u-7","metadata":{"k":"v"}}`,
	}
}

// lastBody is the body of the upstream's last logged request, decoded.
func lastBody(t *testing.T) map[string]any {
	t.Helper()
	log := requestLog(t)
	if len(log) == 0 {
		t.Fatal("no request logged")
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(log[len(log)-1].Body), &body); err != nil {
		t.Fatal(err)
	}
	return body
}

// jsonOf is v as compact JSON, for comparing parts of a body.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRequestEveryFieldReachesTheProvider(t *testing.T) {
	c := newTestClient(t, "openai")
	if _, err := c.Chat(context.Background(), everyField(), nil); err != nil {
		t.Fatal(err)
	}
	body := lastBody(t)
	for key, want := range map[string]string{
		"model": `"gpt-test"`,
		"messages": `[{"content":"Be brief.","role":"system"},` +
			`{"content":[{"text":"What is in these?","type":"text"},` +
			`{"image_url":{"url":"https://example.com/cat.png"},"type":"image_url"},` +
			`{"image_url":{"url":"data:image/png;base64,iVBORw0KGgo="},"type":"image_url"},` +
			`{"text":"Thanks.","type":"text"}],"role":"user"},` +
			`{"content":"Let me look.","role":"assistant","tool_calls":[{"function":{"arguments":"{\"q\":\"cat\"}","name":"lookup"},"id":"call_1","type":"function"}]},` +
			`{"content":"a cat","role":"tool","tool_call_id":"call_1"}]`,
		"tools": `[{"function":{"description":"Looks things up","name":"lookup","parameters":{"properties":{"q":{"type":"string"}},"type":"object"}},"type":"function"},` +
			`{"function":{"name":"now"},"type":"function"}]`,
		"tool_choice":           `{"function":{"name":"lookup"},"type":"function"}`,
		"response_format":       `{"json_schema":{"name":"response","schema":{"properties":{"answer":{"type":"string"}},"type":"object"}},"type":"json_schema"}`,
		"temperature":           `0.25`,
		"top_p":                 `0.5`,
		"max_completion_tokens": `300`,
		"seed":                  `42`,
		"stop":                  `["END","STOP"]`,
		"user":                  `"u-7"`, // extra, merged
		"metadata":              `{"k":"v"}`,
	} {
		if got := jsonOf(t, body[key]); got != want {
			t.Errorf("%s = %s\n want %s", key, got, want)
		}
	}

	// What only Anthropic shows: the thinking budget and the cache marks.
	a := newTestClient(t, "anthropic")
	req := everyField()
	req.ResponseFormat = "" // Anthropic has none (ErrUnsupported)
	req.ThinkingBudget = Ptr(1024)
	if _, err := a.Chat(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	body = lastBody(t)
	for key, want := range map[string]string{
		"system":         `[{"cache_control":{"type":"ephemeral"},"text":"Be brief.","type":"text"}]`,
		"thinking":       `{"budget_tokens":1024,"type":"enabled"}`,
		"max_tokens":     `300`,
		"stop_sequences": `["END","STOP"]`,
		"tool_choice":    `{"name":"lookup","type":"tool"}`,
	} {
		if got := jsonOf(t, body[key]); got != want {
			t.Errorf("anthropic %s = %s\n want %s", key, got, want)
		}
	}
	messages := body["messages"].([]any)
	first := messages[0].(map[string]any)["content"].([]any)
	if got := jsonOf(t, first[len(first)-1]); got != `{"cache_control":{"type":"ephemeral"},"text":"Thanks.","type":"text"}` {
		t.Errorf("the marked message ends with %s", got)
	}
	if got := jsonOf(t, messages[2]); got != `{"content":[{"content":"a cat","tool_use_id":"call_1","type":"tool_result"}],"role":"user"}` {
		t.Errorf("the tool result is %s", got)
	}

	// The same request, unchanged, can be sent again.
	if _, err := a.Chat(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
}

func TestClientBadArgumentsAreInvalidArgument(t *testing.T) {
	for _, kv := range [][]string{
		{"provider", "openia"},
		{"provider", "ollama", "timout.total", "5"},
		{"provider", "openai-compatible"}, // no base_url
	} {
		if _, err := NewClient(optionsWith(t, kv...)); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("NewClient(%q) = %v", kv, err)
		}
	}
	if _, err := NewClient(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewClient(nil) = %v", err)
	}

	c := newTestClient(t, "openai")
	ctx := context.Background()
	bad := map[string]*Request{
		"nil":                 nil,
		"no model":            {Messages: []Message{UserMessage("hi")}},
		"NaN temperature":     {Model: "m", Temperature: Ptr(nanOf()), Messages: []Message{UserMessage("hi")}},
		"negative seed":       {Model: "m", Seed: Ptr(int64(-1)), Messages: []Message{UserMessage("hi")}},
		"extra not object":    {Model: "m", Extra: "[1]", Messages: []Message{UserMessage("hi")}},
		"system role":         {Model: "m", Messages: []Message{{Role: "system", Content: []Part{TextPart("x")}}}},
		"invalid UTF-8":       {Model: "m", Messages: []Message{UserMessage("\xC3\x28")}},
		"NUL byte":            {Model: "m", Messages: []Message{UserMessage("a\x00b")}},
		"ftp image":           {Model: "m", Messages: []Message{{Role: RoleUser, Content: []Part{ImagePart("ftp://x")}}}},
		"user tool call":      {Model: "m", Messages: []Message{{Role: RoleUser, ToolCalls: []ToolCall{{ID: "id", Name: "f"}}}}},
		"tool schema":         {Model: "m", Tools: []Tool{{Name: "f", Parameters: "[]"}}, Messages: []Message{UserMessage("hi")}},
		"image tool result":   {Model: "m", Messages: []Message{{Role: RoleTool, ToolCallID: "c", Content: []Part{ImagePart("https://x/y.png")}}}},
		"bad response format": {Model: "m", ResponseFormat: "yaml", Messages: []Message{UserMessage("hi")}},
	}
	for name, req := range bad {
		if _, err := c.Chat(ctx, req, nil); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: Chat = %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, err := c.Chat(ctx, hello(), optionsWith(t, "strem", "true")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("an unknown call option gave %v", err)
	}
	if _, err := c.ChatStream(ctx, hello(), nil, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ChatStream(nil callback) = %v", err)
	}
	if _, err := c.Embed(ctx, "e\x00", []string{"x"}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Embed(model with NUL) = %v", err)
	}
	if n := len(requestLog(t)); n != 0 {
		t.Errorf("%d requests sent for bad arguments", n)
	}
	// OpenAI takes no thinking budget: known only when sending.
	if _, err := c.Chat(ctx, &Request{Model: "m", ThinkingBudget: Ptr(100), Messages: []Message{UserMessage("hi")}}, nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a thinking budget for OpenAI gave %v", err)
	}

	c.Close()
	c.Close() // harmless
	if _, err := c.Chat(ctx, hello(), nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Chat after Close = %v", err)
	}
	if _, err := c.Embed(ctx, "", []string{"x"}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Embed after Close = %v", err)
	}
}

func nanOf() float64 {
	zero := 0.0
	return zero / zero
}

func TestParseResponseWithoutANetwork(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(fixturesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	res, err := ParseResponse("openai", read("openai/chat_completion_text.json"), false)
	if err != nil || res.Text != expectedOf(t, "openai/chat_completion_text").Text || res.HTTPStatus != 0 {
		t.Errorf("ParseResponse(openai text) = %+v, %v", res, err)
	}
	res, err = ParseResponse("anthropic", read("anthropic/stream_tool_use.sse"), true)
	if err != nil || len(res.ToolCalls) != 1 || res.FinishReason != FinishToolCalls {
		t.Errorf("ParseResponse(anthropic stream) = %+v, %v", res, err)
	}

	_, err = ParseResponse("anthropic", read("anthropic/error_529_overloaded.json"), false)
	if r := responseError(t, err, ErrOverloaded); r.ErrorMessage != "Overloaded" {
		t.Errorf("error message %q", r.ErrorMessage)
	}
	if _, err := ParseResponse("anthropic", []byte("{"), false); !errors.Is(err, ErrProviderError) {
		t.Errorf("ParseResponse({) = %v", err)
	} else if errors.As(err, new(*ResponseError)) {
		t.Errorf("%v holds a response, but no answer was parsed", err)
	}
	if _, err := ParseResponse("openai", []byte("data: {\"choices\":[]}\n\n"), true); !errors.Is(err, ErrNetwork) {
		t.Errorf("ParseResponse(cut stream) = %v", err)
	}
	if _, err := ParseResponse("openia", nil, false); err == nil {
		t.Error("ParseResponse(unknown provider) succeeded")
	}

	emb, err := ParseEmbeddings("openai", read("openai/embeddings_3.json"))
	if err != nil || len(emb.Vectors) != 3 || emb.InputTokens != 8 || !reflect.DeepEqual(emb.Vectors[2], []float32{-0.5, 0.25, 0.125, -0.0625}) {
		t.Errorf("ParseEmbeddings = %+v, %v", emb, err)
	}
	if _, err := ParseEmbeddings("openai", []byte("nope")); !errors.Is(err, ErrProviderError) {
		t.Errorf("ParseEmbeddings(not JSON) = %v", err)
	}
}

func TestFinishReasonAndChunkKindMatchC(t *testing.T) {
	for r, name := range []string{"none", "stop", "length", "tool_calls", "content_filter", "refusal", "error"} {
		if got := FinishReason(r).String(); got != name {
			t.Errorf("FinishReason(%d) = %q, want %q", r, got, name)
		}
	}
	if FinishError != 6 || ChunkToolCall != 2 || ChunkReasoning != 1 {
		t.Error("constants differ from llmkit.h")
	}
}

func TestClientCallsFromManyGoroutines(t *testing.T) {
	c := newTestClient(t, "anthropic")
	want := expectedOf(t, "anthropic/stream_text").Text
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var text bytes.Buffer
			res, err := c.ChatStream(context.Background(), hello(), nil, func(ch Chunk) error {
				text.WriteString(ch.Text)
				return nil
			})
			if err == nil && (res.Text != want || text.String() != want) {
				err = fmt.Errorf("call %d: %q, chunks %q", i, res.Text, text.String())
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
