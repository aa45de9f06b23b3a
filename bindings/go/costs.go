package llmkit

import (
	"encoding/json"
	"runtime"

	"llmkit/internal/raw"
)

// CostRow is one group of QueryCosts: the groups it asked for ("by") and
// Time with "per", then what its calls added up to. Cached and cache-write
// tokens are parts of InputTokens, reasoning tokens part of OutputTokens;
// Unpriced counts calls that used tokens, were no cache hit and cost
// nothing: their model had no price (or a price of 0), no cost guessed.
type CostRow struct {
	Application       string  `json:"application,omitempty"`
	Model             string  `json:"model,omitempty"`
	Provider          string  `json:"provider,omitempty"`
	Caller            string  `json:"caller,omitempty"`
	Deployment        string  `json:"deployment,omitempty"`
	Time              string  `json:"time,omitempty"` // the hour's or day's start, ISO-8601 UTC
	Requests          int64   `json:"requests"`
	Errors            int64   `json:"errors"`
	CacheHits         int64   `json:"cache_hits"`
	Unpriced          int64   `json:"unpriced"`
	InputTokens       int64   `json:"input_tokens"`
	OutputTokens      int64   `json:"output_tokens"`
	CachedInputTokens int64   `json:"cached_input_tokens"`
	CacheWriteTokens  int64   `json:"cache_write_tokens"`
	ReasoningTokens   int64   `json:"reasoning_tokens"`
	CostUSD           float64 `json:"cost_usd"`
}

// Costs is what QueryCosts found: the rows, costliest first (in time order
// with "per"), and the total of every call in range, not only the rows
// "top" kept.
type Costs struct {
	Rows  []CostRow `json:"rows"`
	Total CostRow   `json:"total"`
	JSON  []byte    `json:"-"` // the library's own JSON text of the result
}

// QueryCosts sums the traces table of db (a SQLite file's path or a
// postgresql:// URL) as query (may be nil) asks, with the keys of
// llmkit_costs_query: "by" (application, model, provider, caller,
// deployment, comma-separated; default "model"), "per" (hour, day),
// "since" and "until" ("24h", "7d", Unix seconds, "2025-01-31T12:00:00Z"),
// "top", and the filters "application", "model", "caller". An error
// matches ErrInvalidArgument for a bad key or value, ErrNotFound for a
// SQLite file that does not exist, ErrUnavailable when the database
// cannot be reached.
func QueryCosts(db string, query *Options) (*Costs, error) {
	if err := checkName("db", db); err != nil {
		return nil, err
	}
	var q uintptr
	if query != nil {
		if query.h == 0 {
			return nil, errClosed
		}
		q = query.h
		defer runtime.KeepAlive(query)
	}
	var h uintptr
	if err := check(raw.Costs_query(db, q, &h)); err != nil {
		return nil, err
	}
	defer raw.Costs_free(h)
	var text []byte
	if err := check(raw.Costs_json(h, &text)); err != nil {
		return nil, err
	}
	c := &Costs{JSON: text}
	if err := json.Unmarshal(text, c); err != nil {
		return nil, &Error{Status: StatusInternal, Message: "llmkit: the costs JSON: " + err.Error()}
	}
	return c, nil
}

// BudgetSpent is what the budget of kind ("application" or "caller") for
// key has spent this UTC per ("day" or "month"), in dollars, as the
// client's "budget.store" holds it. An error matches ErrNotFound when no
// rule of the client's "budgets" covers it, ErrUnavailable when a shared
// store cannot be reached. A call whose budget is spent fails with an
// error matching ErrBudgetExceeded, without reaching the provider.
func (c *Client) BudgetSpent(kind, key, per string) (float64, error) {
	if c.h == 0 {
		return 0, errClientClosed
	}
	for _, s := range []struct{ name, value string }{{"kind", kind}, {"key", key}, {"per", per}} {
		if err := checkName(s.name, s.value); err != nil {
			return 0, err
		}
	}
	defer runtime.KeepAlive(c)
	var usd float64
	if err := check(raw.Client_budget_spent(c.h, kind, key, per, &usd)); err != nil {
		return 0, err
	}
	return usd, nil
}
