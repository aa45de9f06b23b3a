package llmkit

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Trace records of a client's calls into a JSON Lines file, against
// test/upstream/upstream.py (client_test.go starts it).

func TestClientTraceWritesOneRecordPerCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.jsonl")
	c := newTestClient(t, "openai", "trace", "jsonl:"+path, "application", "go-test")
	for i := 0; i < 3; i++ {
		if _, err := c.Chat(context.Background(), hello(), optionsWith(t, "caller", "team-go")); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	s, err := c.TraceStats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Written != 3 || s.Dropped != 0 || s.Queued != 0 {
		t.Errorf("TraceStats = %+v, want 3 written, none dropped or queued", s)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	for scan := bufio.NewScanner(f); scan.Scan(); {
		if strings.Contains(scan.Text(), testKey) {
			t.Errorf("the API key is in a trace record: %s", scan.Text())
		}
		var record map[string]any
		if err := json.Unmarshal(scan.Bytes(), &record); err != nil {
			t.Fatalf("%v: %s", err, scan.Text())
		}
		lines = append(lines, record)
	}
	if len(lines) != 3 {
		t.Fatalf("%d records, want 3", len(lines))
	}
	r := lines[0]
	if r["gen_ai.request.model"] != "m" || r["llmkit.application"] != "go-test" || r["llmkit.caller"] != "team-go" || r["llmkit.status"] != "ok" {
		t.Errorf("record = %v", r)
	}
	if n, _ := r["gen_ai.usage.output_tokens"].(float64); n <= 0 {
		t.Errorf("gen_ai.usage.output_tokens = %v, want > 0", r["gen_ai.usage.output_tokens"])
	}
}

func TestClientFlushWithoutTraceAndAfterClose(t *testing.T) {
	c := newTestClient(t, "openai")
	if err := c.Flush(0); err != nil {
		t.Errorf("Flush without \"trace\" = %v, want nil", err)
	}
	if s, err := c.TraceStats(); err != nil || s != (TraceStats{}) {
		t.Errorf("TraceStats = %+v, %v; want zeros", s, err)
	}
	c.Close()
	if err := c.Flush(0); err == nil {
		t.Error("Flush after Close succeeded")
	}
}
