package llmkit

import (
	"fmt"
	"runtime"
	"strings"

	"llmkit/internal/raw"
)

// SpecialMode says what to do with text that spells a special token such
// as "<|endoftext|>"; values match llmkit_special_mode.
type SpecialMode int

const (
	// SpecialDisallow makes such text an error matching ErrInvalidArgument,
	// as tiktoken's encode() does: the safe choice for user text.
	SpecialDisallow SpecialMode = iota
	// SpecialAllow turns such text into the special token.
	SpecialAllow
	// SpecialAsText encodes such text as ordinary text, as encode_ordinary().
	SpecialAsText
)

// Tokenizer encodes and counts text with one of OpenAI's BPE encodings
// ("cl100k_base", "o200k_base", "p50k_base", "r50k_base"), giving exactly
// tiktoken's ids. Its methods may be called from many goroutines at once;
// the encoding data is shared and loaded once per process.
//
// Text is UTF-8, passed as is: invalid UTF-8 is an error naming its byte
// offset. Call Close when done; a finalizer frees it otherwise, later.
type Tokenizer struct {
	h      uintptr // the C llmkit_tokenizer*; 0 once closed
	name   string
	nVocab int
}

var errTokenizerClosed = &Error{Status: StatusInvalidArgument, Message: "llmkit: Tokenizer used after Close (or not made by NewTokenizer)"}

// checkName rejects a name C would cut short at its first NUL byte.
func checkName(what, name string) error {
	if i := strings.IndexByte(name, 0); i >= 0 {
		return &Error{StatusInvalidArgument, fmt.Sprintf("invalid %s %q: NUL byte at offset %d", what, name, i)}
	}
	return nil
}

// NewTokenizer returns a tokenizer for the named encoding, or an error
// matching ErrNotFound whose message lists the known ones.
func NewTokenizer(encoding string) (*Tokenizer, error) {
	if err := checkName("encoding", encoding); err != nil {
		return nil, err
	}
	var h uintptr
	if err := check(raw.Tokenizer_new(encoding, &h)); err != nil {
		return nil, err
	}
	// Both never change, so they are read once and need no error later.
	// (n goes through a local: cgo refuses a pointer into a struct that
	// holds a string.)
	var n int
	if err := check(raw.Tokenizer_n_vocab(h, &n)); err != nil {
		raw.Tokenizer_free(h)
		return nil, err
	}
	t := &Tokenizer{h: h, name: raw.Tokenizer_name(h), nVocab: n}
	runtime.SetFinalizer(t, (*Tokenizer).Close)
	return t, nil
}

// TokenizerForModel returns the tokenizer of an OpenAI model, or an error
// matching ErrNotFound for a model without a public tokenizer.
func TokenizerForModel(model string) (*Tokenizer, error) {
	encoding, err := EncodingForModel(model)
	if err != nil {
		return nil, err
	}
	return NewTokenizer(encoding)
}

// Close frees the tokenizer. Closing twice is harmless; any other use after
// Close returns an error matching ErrInvalidArgument, except Name and
// NVocab, which still answer. Close must not run while another goroutine
// uses t.
func (t *Tokenizer) Close() error {
	if t.h != 0 {
		raw.Tokenizer_free(t.h)
		t.h = 0
		runtime.SetFinalizer(t, nil)
	}
	return nil
}

// Name is the encoding's name, e.g. "o200k_base".
func (t *Tokenizer) Name() string { return t.name }

// NVocab is one more than the largest token id, special tokens included
// (tiktoken's n_vocab).
func (t *Tokenizer) NVocab() int { return t.nVocab }

// Encode returns the token ids of text.
func (t *Tokenizer) Encode(text string, mode SpecialMode) ([]uint32, error) {
	if t.h == 0 {
		return nil, errTokenizerClosed
	}
	// Every token covers at least one byte, so one call always has room.
	ids := make([]uint32, len(text))
	var n int
	// As in Options: t must outlive the C call, or its finalizer could free
	// the handle under it.
	defer runtime.KeepAlive(t)
	if err := check(raw.Tokenizer_encode(t.h, text, raw.Enum_SS_llmkit_special_mode(mode), ids, &n)); err != nil {
		return nil, err
	}
	// English averages about 4 bytes a token: keep the ids, not the room.
	if n < len(ids)/2 {
		return append([]uint32(nil), ids[:n]...), nil
	}
	return ids[:n:n], nil
}

// Count returns the number of tokens in text, faster than len(Encode(..)).
func (t *Tokenizer) Count(text string, mode SpecialMode) (int, error) {
	if t.h == 0 {
		return 0, errTokenizerClosed
	}
	defer runtime.KeepAlive(t)
	var n int
	if err := check(raw.Tokenizer_count(t.h, text, raw.Enum_SS_llmkit_special_mode(mode), &n)); err != nil {
		return 0, err
	}
	return n, nil
}

// CountBatch counts each text, spread over the library's threads. On error
// it reports the first failing text, by index ("text 3: ..."), and returns
// no counts.
func (t *Tokenizer) CountBatch(texts []string, mode SpecialMode) ([]int, error) {
	if t.h == 0 {
		return nil, errTokenizerClosed
	}
	// cgo may not pass C an array of Go string pointers, so the texts go
	// over as one joined string and their lengths; the copy costs far less
	// than tokenizing it.
	lens := make([]int, len(texts))
	total := 0
	for i, s := range texts {
		lens[i] = len(s)
		total += len(s)
	}
	var joined strings.Builder
	joined.Grow(total)
	for _, s := range texts {
		joined.WriteString(s)
	}
	counts := make([]int, len(texts))
	defer runtime.KeepAlive(t)
	if err := check(raw.Tokenizer_count_batch(t.h, joined.String(), lens, int(mode), counts)); err != nil {
		return nil, err
	}
	return counts, nil
}

// Decode returns the bytes that ids stand for. They are not always valid
// UTF-8: ids may end in the middle of a character. An unknown id is an
// error matching ErrInvalidArgument.
func (t *Tokenizer) Decode(ids []uint32) ([]byte, error) {
	if t.h == 0 {
		return nil, errTokenizerClosed
	}
	defer runtime.KeepAlive(t)
	var n int
	if err := check(raw.Tokenizer_decode(t.h, ids, nil, &n)); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if n == 0 {
		return buf, nil
	}
	if err := check(raw.Tokenizer_decode(t.h, ids, buf, &n)); err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// EncodingForModel returns the encoding an OpenAI model uses, e.g.
// "o200k_base" for "gpt-4o", or an error matching ErrNotFound.
func EncodingForModel(model string) (string, error) {
	if err := checkName("model", model); err != nil {
		return "", err
	}
	var encoding string
	if err := check(raw.Encoding_for_model(model, &encoding)); err != nil {
		return "", err
	}
	return encoding, nil
}

// CountTokens returns the exact token count of text for an OpenAI model,
// with special-token spellings counted as ordinary text, as the API does.
// Models without a public tokenizer give an error matching ErrNotFound:
// use EstimateTokens for them.
func CountTokens(model, text string) (int, error) {
	if err := checkName("model", model); err != nil {
		return 0, err
	}
	var n int
	if err := check(raw.Count_tokens(model, text, &n)); err != nil {
		return 0, err
	}
	return n, nil
}

// CountChatTokens returns the prompt tokens of a Chat Completions request
// for an OpenAI model, by OpenAI's per-message rules, reply priming
// included. messagesJSON is the request's "messages" array and toolsJSON
// its "tools" array, or "" for none. Image and audio parts give an error
// matching ErrUnsupported; malformed JSON one matching ErrInvalidArgument.
func CountChatTokens(model, messagesJSON, toolsJSON string) (int, error) {
	if err := checkName("model", model); err != nil {
		return 0, err
	}
	var n int
	if err := check(raw.Count_tokens_chat(model, messagesJSON, toolsJSON, &n)); err != nil {
		return 0, err
	}
	return n, nil
}

// EstimateTokens counts text for any known model family. For OpenAI models
// the count is exact (exact is true); for models whose tokenizer is not
// public (claude-*, gemini-*, gemma-*) it is the o200k_base count, an
// estimate that can differ noticeably from the provider's. A model of no
// known family gives an error matching ErrNotFound.
func EstimateTokens(model, text string) (count int, exact bool, err error) {
	if err := checkName("model", model); err != nil {
		return 0, false, err
	}
	if err := check(raw.Estimate_tokens(model, text, &count, &exact)); err != nil {
		return 0, false, err
	}
	return count, exact, nil
}
