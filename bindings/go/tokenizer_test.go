package llmkit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"llmkit/internal/raw"
)

// The C tests' corpus and its tiktoken goldens.
const corpus = "../../test/fixtures/tokenize/"

func newTokenizer(t testing.TB, encoding string) *Tokenizer {
	t.Helper()
	tk, err := NewTokenizer(encoding)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tk.Close() })
	return tk
}

func mustCount(t testing.TB, tk *Tokenizer, text string) int {
	t.Helper()
	n, err := tk.Count(text, SpecialDisallow)
	if err != nil {
		t.Fatalf("Count(%q): %v", text, err)
	}
	return n
}

func TestSpecialModeMatchesC(t *testing.T) {
	for _, c := range []struct {
		m SpecialMode
		c raw.Enum_SS_llmkit_special_mode
	}{{SpecialDisallow, raw.LLMKIT_SPECIAL_DISALLOW}, {SpecialAllow, raw.LLMKIT_SPECIAL_ALLOW}, {SpecialAsText, raw.LLMKIT_SPECIAL_AS_TEXT}} {
		if int(c.m) != int(c.c) {
			t.Errorf("SpecialMode %d, C says %d", c.m, c.c)
		}
	}
}

// tiktoken's n_vocab of each encoding.
func TestEncodings(t *testing.T) {
	for name, want := range map[string]int{"cl100k_base": 100277, "o200k_base": 200019, "p50k_base": 50281, "r50k_base": 50257} {
		tk := newTokenizer(t, name)
		if tk.Name() != name || tk.NVocab() != want {
			t.Errorf("%s: Name() = %q, NVocab() = %d; want %d", name, tk.Name(), tk.NVocab(), want)
		}
	}
	_, err := NewTokenizer("cl100k")
	wantError(t, err, StatusNotFound, "known: cl100k_base, o200k_base")
	_, err = NewTokenizer("cl100k_base\x00x")
	wantError(t, err, StatusInvalidArgument, "NUL byte at offset 11")
}

func TestEncodeDecodeCount(t *testing.T) {
	tk := newTokenizer(t, "cl100k_base")
	for _, c := range []struct {
		text string
		ids  []uint32 // nil: only round-trip
	}{{"hello world", []uint32{15339, 1917}}, {"café 中文 👩‍💻", nil}, {"", []uint32{}}, {"nul\x00inside", nil}} {
		ids, err := tk.Encode(c.text, SpecialDisallow)
		if err != nil {
			t.Fatalf("Encode(%q): %v", c.text, err)
		}
		if c.ids != nil && !reflect.DeepEqual(ids, c.ids) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, ids, c.ids)
		}
		if n := mustCount(t, tk, c.text); n != len(ids) {
			t.Errorf("Count(%q) = %d, Encode gave %d ids", c.text, n, len(ids))
		}
		if back, err := tk.Decode(ids); err != nil || string(back) != c.text {
			t.Errorf("Decode(Encode(%q)) = %q, %v", c.text, back, err)
		}
	}
}

// 👩 is several byte-level tokens: a prefix of them is a prefix of its bytes.
func TestDecodeMayEndInsideACharacter(t *testing.T) {
	tk := newTokenizer(t, "cl100k_base")
	ids, _ := tk.Encode("👩", SpecialDisallow)
	if len(ids) < 2 {
		t.Fatalf("👩 is %v: want several ids", ids)
	}
	b, err := tk.Decode(ids[:1])
	if err != nil || len(b) == 0 || !bytes.HasPrefix([]byte("👩"), b) || len(b) == len("👩") {
		t.Errorf("Decode(%v) = %q, %v: want a proper prefix of 👩", ids[:1], b, err)
	}
}

func TestSpecialModes(t *testing.T) {
	tk := newTokenizer(t, "cl100k_base")
	const text = "a<|endoftext|>b"
	ids, err := tk.Encode(text, SpecialAllow)
	if err != nil || len(ids) != 3 || ids[1] != 100257 {
		t.Errorf("Encode ALLOW = %v, %v; want 3 ids with 100257 in the middle", ids, err)
	}
	_, err = tk.Encode(text, SpecialDisallow)
	wantError(t, err, StatusInvalidArgument, "<|endoftext|>")
	_, err = tk.Count(text, SpecialDisallow)
	wantError(t, err, StatusInvalidArgument, "<|endoftext|>")
	ids, err = tk.Encode(text, SpecialAsText)
	if err != nil || len(ids) <= 3 {
		t.Errorf("Encode AS_TEXT = %v, %v; want more than 3 ids", ids, err)
	}
	if back, _ := tk.Decode(ids); string(back) != text {
		t.Errorf("AS_TEXT ids decode to %q", back)
	}
	_, err = tk.Count("x", SpecialMode(9))
	wantError(t, err, StatusInvalidArgument, "mode 9")
}

func TestInvalidInput(t *testing.T) {
	tk := newTokenizer(t, "cl100k_base")
	_, err := tk.Encode("ok\xffno", SpecialDisallow)
	wantError(t, err, StatusInvalidArgument, "byte offset 2")
	_, err = tk.Count("caf\xc3", SpecialDisallow)
	wantError(t, err, StatusInvalidArgument, "byte offset 3")
	_, err = CountTokens("gpt-4o", "\xe4\xb8")
	wantError(t, err, StatusInvalidArgument, "byte offset 0")
	_, err = tk.Decode([]uint32{15339, 999999})
	wantError(t, err, StatusInvalidArgument, "999999")
	_, err = tk.Decode([]uint32{uint32(tk.NVocab())})
	wantError(t, err, StatusInvalidArgument, strconv.Itoa(tk.NVocab()))
}

func TestModels(t *testing.T) {
	for model, want := range map[string]string{"gpt-4o": "o200k_base", "gpt-4": "cl100k_base", "gpt-4o-2024-08-06": "o200k_base"} {
		if got, err := EncodingForModel(model); err != nil || got != want {
			t.Errorf("EncodingForModel(%q) = %q, %v; want %q", model, got, err, want)
		}
	}
	_, err := EncodingForModel("claude-3")
	wantError(t, err, StatusNotFound, "'claude-3'")
	_, err = TokenizerForModel("claude-3")
	wantError(t, err, StatusNotFound, "'claude-3'")
	_, err = EncodingForModel("gpt-4o\x00")
	wantError(t, err, StatusInvalidArgument, "NUL byte")

	tk, err := TokenizerForModel("gpt-4")
	if err != nil || tk.Name() != "cl100k_base" {
		t.Fatalf("TokenizerForModel(gpt-4) = %v, %v", tk, err)
	}
	tk.Close()
}

func TestCountAndEstimate(t *testing.T) {
	o200k := newTokenizer(t, "o200k_base")
	const text = "The quick brown fox jumps over the lazy dog. Über naïve café, 東京!"
	want := mustCount(t, o200k, text)
	if n, err := CountTokens("gpt-4o", text); err != nil || n != want {
		t.Errorf("CountTokens(gpt-4o) = %d, %v; o200k_base counts %d", n, err, want)
	}
	// The API counts special-token spellings as text.
	asText, _ := o200k.Count("<|endoftext|>", SpecialAsText)
	if n, err := CountTokens("gpt-4o", "<|endoftext|>"); err != nil || n != asText {
		t.Errorf("CountTokens(<|endoftext|>) = %d, %v; want %d", n, err, asText)
	}
	_, err := CountTokens("claude-sonnet-4", text)
	wantError(t, err, StatusNotFound, "claude-sonnet-4")

	for model, exact := range map[string]bool{"claude-sonnet-4": false, "anthropic/claude-sonnet-4": false, "gemini-2.5-pro": false, "gpt-4o": true} {
		n, e, err := EstimateTokens(model, text)
		if err != nil || n != want || e != exact {
			t.Errorf("EstimateTokens(%q) = %d, %v, %v; want %d, %v", model, n, e, err, want, exact)
		}
	}
	cl100k := newTokenizer(t, "cl100k_base")
	if n, exact, err := EstimateTokens("gpt-4", text); err != nil || !exact || n != mustCount(t, cl100k, text) {
		t.Errorf("EstimateTokens(gpt-4) = %d, %v, %v; want the cl100k_base count", n, exact, err)
	}
	_, _, err = EstimateTokens("llama-3", text)
	wantError(t, err, StatusNotFound, "llama-3")
}

func TestCountChatTokens(t *testing.T) {
	o200k := newTokenizer(t, "o200k_base")
	const messages = `[{"role":"user","content":"hello world"}]`
	// OpenAI's rule: 3 per message, its fields' tokens, 3 to prime the reply.
	want := 3 + mustCount(t, o200k, "user") + mustCount(t, o200k, "hello world") + 3
	if want != 9 {
		t.Fatalf("formula gives %d, want 3+1+2+3", want)
	}
	n, err := CountChatTokens("gpt-4o", messages, "")
	if err != nil || n != want {
		t.Errorf("CountChatTokens = %d, %v; want %d", n, err, want)
	}
	const tools = `[{"type":"function","function":{"name":"get_weather","description":"Weather in a city",` +
		`"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`
	if withTools, err := CountChatTokens("gpt-4o", messages, tools); err != nil || withTools <= n {
		t.Errorf("with a tool: %d, %v; want more than %d", withTools, err, n)
	}
	_, err = CountChatTokens("gpt-4o", `[{"role":"user"`, "")
	wantError(t, err, StatusInvalidArgument, "messages")
	_, err = CountChatTokens("gpt-4o", messages, `{}`)
	wantError(t, err, StatusInvalidArgument, "tools")
	_, err = CountChatTokens("gpt-4o", `[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]`, "")
	wantError(t, err, StatusUnsupported, "image_url")
	_, err = CountChatTokens("claude-3", messages, "")
	wantError(t, err, StatusNotFound, "claude-3")
}

func TestCountBatch(t *testing.T) {
	tk := newTokenizer(t, "cl100k_base")
	texts := []string{"hello world", "", "café 中文 👩‍💻", strings.Repeat("lorem ipsum ", 500), "a<|endoftext|>b", "x"}
	counts, err := tk.CountBatch(texts, SpecialAllow)
	if err != nil || len(counts) != len(texts) {
		t.Fatalf("CountBatch = %v, %v", counts, err)
	}
	for i, s := range texts {
		if n, _ := tk.Count(s, SpecialAllow); counts[i] != n {
			t.Errorf("CountBatch[%d] = %d, Count says %d", i, counts[i], n)
		}
	}
	if counts, err := tk.CountBatch(nil, SpecialDisallow); err != nil || len(counts) != 0 {
		t.Errorf("CountBatch(nil) = %v, %v", counts, err)
	}
	if counts, err := tk.CountBatch([]string{"", ""}, SpecialDisallow); err != nil || !reflect.DeepEqual(counts, []int{0, 0}) {
		t.Errorf("CountBatch of empty texts = %v, %v", counts, err)
	}
	// The first failing text by index is reported, with that index.
	_, err = tk.CountBatch([]string{"ok", "fine", "bad\xff", "a<|endoftext|>"}, SpecialDisallow)
	wantError(t, err, StatusInvalidArgument, "text 2: ")
	wantError(t, err, StatusInvalidArgument, "byte offset 3")
	_, err = tk.CountBatch(texts, SpecialDisallow)
	wantError(t, err, StatusInvalidArgument, "text 4: ")
}

// The ids of a whole corpus file match tiktoken's, kept in the goldens.
func TestGoldenEnglish(t *testing.T) {
	text, err := os.ReadFile(corpus + "corpus/english.txt")
	if err != nil {
		t.Fatal("no corpus:", err)
	}
	golden, err := os.ReadFile(corpus + "golden/cl100k_base/english.ids")
	if err != nil {
		t.Fatal("no golden:", err)
	}
	fields := strings.Fields(string(golden))
	want := make([]uint32, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = uint32(v)
	}
	tk := newTokenizer(t, "cl100k_base")
	ids, err := tk.Encode(string(text), SpecialAsText)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("english.txt: %d ids, golden has %d", len(ids), len(want))
	}
	if back, err := tk.Decode(ids); err != nil || !bytes.Equal(back, text) {
		t.Errorf("Decode of english.txt differs (%v)", err)
	}
}

func TestTokenizerUseAfterClose(t *testing.T) {
	tk, err := NewTokenizer("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	tk.Close()
	if err := tk.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if tk.Name() != "o200k_base" || tk.NVocab() != 200019 {
		t.Errorf("after Close: Name() = %q, NVocab() = %d", tk.Name(), tk.NVocab())
	}
	_, encErr := tk.Encode("x", SpecialDisallow)
	_, countErr := tk.Count("x", SpecialDisallow)
	_, batchErr := tk.CountBatch([]string{"x"}, SpecialDisallow)
	_, decErr := tk.Decode([]uint32{1})
	for name, err := range map[string]error{"Encode": encErr, "Count": countErr, "CountBatch": batchErr, "Decode": decErr} {
		t.Run(name, func(t *testing.T) { wantError(t, err, StatusInvalidArgument, "Tokenizer used after Close") })
	}
	var zero Tokenizer
	_, err = zero.Count("x", SpecialDisallow)
	wantError(t, err, StatusInvalidArgument, "not made by NewTokenizer")
}

// Unclosed tokenizers are freed by their finalizer, closed ones only once.
func TestTokenizerFinalizer(t *testing.T) {
	for i := 0; i < 100; i++ {
		tk, err := NewTokenizer("r50k_base")
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			tk.Close()
		}
	}
	runtime.GC()
	runtime.GC()
}

// One tokenizer shared by goroutines gives each its own right answer, and
// each failure its own message, while CountBatch also runs on the
// library's threads.
func TestTokenizerConcurrentUse(t *testing.T) {
	tk := newTokenizer(t, "o200k_base")
	texts := make([]string, 32)
	want := make([]int, len(texts))
	for i := range texts {
		texts[i] = strings.Repeat(fmt.Sprintf("text %d, café 中文; ", i), 20*(i+1))
		want[i] = mustCount(t, tk, texts[i])
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 20; r++ {
				i := (g*7 + r) % len(texts)
				if n, err := tk.Count(texts[i], SpecialDisallow); err != nil || n != want[i] {
					t.Errorf("goroutine %d: Count(text %d) = %d, %v; want %d", g, i, n, err, want[i])
					return
				}
				if ids, err := tk.Encode(texts[i], SpecialDisallow); err != nil || len(ids) != want[i] {
					t.Errorf("goroutine %d: Encode(text %d) gave %d ids, %v", g, i, len(ids), err)
					return
				}
				if counts, err := tk.CountBatch(texts, SpecialDisallow); err != nil || !reflect.DeepEqual(counts, want) {
					t.Errorf("goroutine %d: CountBatch = %v, %v", g, counts, err)
					return
				}
				bad := fmt.Sprintf("g%d r%d \xff", g, r)
				_, err := tk.Count(bad, SpecialDisallow)
				if wantMsg := fmt.Sprintf("byte offset %d", len(bad)-1); err == nil || !strings.Contains(err.Error(), wantMsg) {
					t.Errorf("goroutine %d: Count(%q) = %v; want %s", g, bad, err, wantMsg)
					return
				}
				model := fmt.Sprintf("claude-%d-%d", g, r)
				if _, err := EncodingForModel(model); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), model) {
					t.Errorf("goroutine %d: EncodingForModel(%q) = %v", g, model, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

// english100KB is the first 100 KB (whole lines) of the English corpus.
func english100KB(b *testing.B) string {
	text, err := os.ReadFile(corpus + "corpus/english.txt")
	if err != nil {
		b.Fatal("no corpus:", err)
	}
	if len(text) > 100_000 {
		text = text[:bytes.LastIndexByte(text[:100_000], '\n')+1]
	}
	return string(text)
}

func BenchmarkCount(b *testing.B) {
	text := english100KB(b)
	tk := newTokenizer(b, "cl100k_base")
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tk.Count(text, SpecialDisallow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	text := english100KB(b)
	tk := newTokenizer(b, "cl100k_base")
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tk.Encode(text, SpecialDisallow); err != nil {
			b.Fatal(err)
		}
	}
}

// The same 100 KB as 100 texts of about 1 KB, over the library's threads.
func BenchmarkCountBatch(b *testing.B) {
	text := english100KB(b)
	var texts []string
	for rest := text; len(rest) > 0; {
		n := len(rest)
		if n > 1000 { // text ends in a newline, so one follows
			n = 1000 + strings.IndexByte(rest[1000:], '\n') + 1
		}
		texts, rest = append(texts, rest[:n]), rest[n:]
	}
	tk := newTokenizer(b, "cl100k_base")
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tk.CountBatch(texts, SpecialDisallow); err != nil {
			b.Fatal(err)
		}
	}
}
