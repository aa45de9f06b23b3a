package llmkit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A client's metrics, stats and health, against test/upstream/upstream.py
// (client_test.go starts it).

const goSeries = `{gen_ai_operation_name="chat",gen_ai_request_model="m",gen_ai_provider_name="openai",deployment="m"`

// sampleValue is the value of the sample printed as key in Prometheus text.
func sampleValue(t *testing.T, text, key string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, key+" ") {
			f, err := strconv.ParseFloat(strings.TrimPrefix(line, key+" "), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no sample %s in:\n%s", key, text)
	return 0
}

func TestClientMetricsCountCallsByStatus(t *testing.T) {
	c := newTestClient(t, "openai", "retry.attempts", "1")
	for i := 0; i < 3; i++ {
		if _, err := c.Chat(context.Background(), hello(), nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fault", "status=429"))
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	text, err := c.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	if got := sampleValue(t, text, "llmkit_requests_total"+goSeries+`,status="ok"}`); got != 3 {
		t.Errorf("ok = %v, want 3", got)
	}
	if got := sampleValue(t, text, "llmkit_requests_total"+goSeries+`,status="RATE_LIMITED"}`); got != 1 {
		t.Errorf("RATE_LIMITED = %v, want 1", got)
	}
	if got := sampleValue(t, text, "llmkit_gen_ai_client_operation_duration_seconds_count"+goSeries+"}"); got != 4 {
		t.Errorf("duration count = %v, want 4", got)
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Calls == nil || s.Calls.Requests != 4 || s.Calls.Errors != 1 || s.Health.State != "ok" {
		t.Errorf("Stats = %+v (calls %+v)", s, s.Calls)
	}
}

func TestClientHealthAndRecommendationsOfAnOpenBreaker(t *testing.T) {
	c := newTestClient(t, "openai", "retry.attempts", "1", "breaker.min_calls", "1",
		"breaker.open_ms", "600000")
	if h, why, err := c.Health(); err != nil || h != HealthOK || why != nil {
		t.Fatalf("Health = %v %q %v, want ok", h, why, err)
	}
	c.Chat(context.Background(), hello(), optionsWith(t, "header.x-upstream-fault", "status=500"))
	h, why, err := c.Health()
	if err != nil || h != HealthUnhealthy || len(why) != 2 || why[1] != "the circuit breaker of 'm' is open" {
		t.Errorf("Health = %v %q %v, want unhealthy, the breaker open", h, why, err)
	}
	if h.String() != "unhealthy" {
		t.Errorf("String = %s", h)
	}
}

func TestClientServeMetricsAnswersScrapers(t *testing.T) {
	c := newTestClient(t, "openai")
	if _, err := c.Chat(context.Background(), hello(), nil); err != nil {
		t.Fatal(err)
	}
	s, err := c.ServeMetrics("", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(s.Port()) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || sampleValue(t, string(body), "llmkit_requests_total"+goSeries+`,status="ok"}`) != 1 {
		t.Errorf("GET /metrics: %d\n%s", res.StatusCode, body)
	}
	if _, err := c.ServeMetrics("localhost", 0); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a host name: %v, want ErrInvalidArgument", err)
	}
}

func TestTracesMetricsReadTheTable(t *testing.T) {
	db := filepath.Join(t.TempDir(), "traces.db")
	c := newTestClient(t, "openai", "trace", db)
	for i := 0; i < 2; i++ {
		if _, err := c.Chat(context.Background(), hello(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	text, err := TracesMetrics(db)
	if err != nil {
		t.Fatal(err)
	}
	if got := sampleValue(t, text, "llmkit_requests_total"+goSeries+`,status="ok"}`); got != 2 {
		t.Errorf("ok = %v, want 2", got)
	}
	if _, err := TracesMetrics(filepath.Join(t.TempDir(), "none.db")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing file: %v, want ErrNotFound", err)
	}
}
