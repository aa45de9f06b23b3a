package llmkit

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A traces table for the sqlite3 tool to fill a test database from.
const costsTable = "../../test/fixtures/costs/traces.sql"

func TestQueryCostsSumsATracesTable(t *testing.T) {
	db := filepath.Join(t.TempDir(), "traces.db")
	cmd := exec.Command("sqlite3", db)
	sql, err := os.Open(costsTable)
	if err != nil {
		t.Fatal(err)
	}
	defer sql.Close()
	cmd.Stdin = sql
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v: %s", err, out)
	}
	costs, err := QueryCosts(db, optionsWith(t, "by", "model", "since", "2025-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(costs.Rows) != 2 || costs.Rows[0].Model != "claude" || costs.Rows[0].CostUSD != 2 {
		t.Fatalf("rows = %+v; want claude ($2) first of two", costs.Rows)
	}
	if r := costs.Rows[1]; r.Model != "gpt-4o" || r.Requests != 2 || r.Errors != 1 || r.InputTokens != 100 {
		t.Errorf("gpt-4o = %+v", r)
	}
	if costs.Total.Requests != 3 || costs.Total.CostUSD != 2.5 {
		t.Errorf("total = %+v", costs.Total)
	}
	if !strings.HasPrefix(string(costs.JSON), `{"rows":[{"model":"claude"`) {
		t.Errorf("JSON = %s", costs.JSON)
	}
	_, err = QueryCosts(db, optionsWith(t, "per", "week"))
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "per") {
		t.Errorf("per=week: %v; want ErrInvalidArgument naming it", err)
	}
	if _, err := QueryCosts(filepath.Join(t.TempDir(), "none.db"), nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing file: %v; want ErrNotFound", err)
	}
}

func TestABudgetSpentFailsTheNextCallWithErrBudgetExceeded(t *testing.T) {
	// Each call of the upstream's answer (10 output tokens) costs $1.
	c := newTestClient(t, "openai",
		"prices", `{"openai": {"models": {"gpt-4.1": {"input": 0, "output": 100000}}}}`,
		"budgets", `[{"caller": "*", "usd": 1, "per": "day"}]`)
	call := optionsWith(t, "caller", "alice")
	if _, err := c.Chat(context.Background(), hello(), call); err != nil {
		t.Fatal(err)
	}
	_, err := c.Chat(context.Background(), hello(), call)
	if !errors.Is(err, ErrBudgetExceeded) || !strings.Contains(err.Error(), "'alice'") {
		t.Fatalf("second call: %v; want ErrBudgetExceeded naming alice", err)
	}
	if n := len(requestLog(t)); n != 1 {
		t.Errorf("%d requests reached the provider; want 1", n)
	}
	if usd, err := c.BudgetSpent("caller", "alice", "day"); err != nil || usd != 1 {
		t.Errorf("BudgetSpent = %v, %v; want 1", usd, err)
	}
	if _, err := c.BudgetSpent("caller", "alice", "week"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("per week: %v; want ErrInvalidArgument", err)
	}
}
