package llmkit

import (
	"encoding/json"
	"runtime"
	"strings"

	"llmkit/internal/raw"
)

// Health is how a client is doing (docs/metrics.md).
type Health int

const (
	HealthOK        Health = 0 // nothing wrong now
	HealthDegraded  Health = 1 // a breaker is open or probing, or trace writes fail
	HealthUnhealthy Health = 2 // every breaker the client has is open
)

func (h Health) String() string {
	switch h {
	case HealthDegraded:
		return "degraded"
	case HealthUnhealthy:
		return "unhealthy"
	}
	return "ok"
}

// Recommendation is what a client's figures suggest changing: Code is a
// stable word (low_cache_hit_rate, slow_hook, flapping_breaker, ...).
type Recommendation struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CallTotals sums a client's calls over every model and deployment.
type CallTotals struct {
	Requests          int64    `json:"requests"`
	Errors            int64    `json:"errors"`
	CacheHits         int64    `json:"cache_hits"`
	CacheMisses       int64    `json:"cache_misses"`
	CacheHitRate      *float64 `json:"cache_hit_rate"` // nil before the first lookup
	RateLimitRejected int64    `json:"ratelimit_rejected"`
	SeriesOverflow    int64    `json:"series_overflow"`
}

// Stats is a snapshot of a client (llmkit_client_stats_json): its health,
// its calls' totals (nil with "metrics" false) and recommendations; JSON
// holds the whole object, series, breakers, hooks and parts included.
type Stats struct {
	Health struct {
		State   string   `json:"state"` // "ok", "degraded" or "unhealthy"
		Reasons []string `json:"reasons"`
	} `json:"health"`
	Calls           *CallTotals      `json:"calls"`
	Recommendations []Recommendation `json:"recommendations"`
	JSON            []byte           `json:"-"`
}

// Metrics returns c's metrics in Prometheus text exposition format 0.0.4
// (docs/metrics.md names every family).
func (c *Client) Metrics() (string, error) {
	if c.h == 0 {
		return "", errClientClosed
	}
	defer runtime.KeepAlive(c)
	var text string
	var n int
	if err := check(raw.Client_metrics(c.h, &text, &n)); err != nil {
		return "", err
	}
	return text, nil
}

// Stats returns a snapshot of c.
func (c *Client) Stats() (*Stats, error) {
	if c.h == 0 {
		return nil, errClientClosed
	}
	defer runtime.KeepAlive(c)
	var text string
	var n int
	if err := check(raw.Client_stats_json(c.h, &text, &n)); err != nil {
		return nil, err
	}
	s := &Stats{JSON: []byte(text)}
	if err := json.Unmarshal(s.JSON, s); err != nil {
		return nil, &Error{Status: StatusInternal, Message: "llmkit: the stats JSON: " + err.Error()}
	}
	return s, nil
}

// Health returns how c is doing and why (none when HealthOK).
func (c *Client) Health() (Health, []string, error) {
	if c.h == 0 {
		return HealthOK, nil, errClientClosed
	}
	defer runtime.KeepAlive(c)
	var h int
	var reasons string
	if err := check(raw.Client_health(c.h, &h, &reasons)); err != nil {
		return HealthOK, nil, err
	}
	if reasons == "" {
		return Health(h), nil, nil
	}
	return Health(h), strings.Split(reasons, "\n"), nil
}

// TracesMetrics returns the metrics of every call in the traces table of
// db (a SQLite file's path or a postgresql:// URL) as a client would have
// counted them: what `llmkit serve-metrics` serves. An error matches
// ErrNotFound for a SQLite file that does not exist, ErrUnavailable when
// the database cannot be reached.
func TracesMetrics(db string) (string, error) {
	if err := checkName("db", db); err != nil {
		return "", err
	}
	var text string
	var n int
	if err := check(raw.Traces_metrics(db, &text, &n)); err != nil {
		return "", err
	}
	return text, nil
}

// MetricsServer answers scrapers over HTTP: GET /metrics, /health (503
// when unhealthy) and /stats. Close it before its client.
type MetricsServer struct {
	h uintptr
}

// ServeMetrics serves c's metrics on address (an IP literal; "" for
// 127.0.0.1, this host only) and port (0: a free one, see Port).
func (c *Client) ServeMetrics(address string, port int) (*MetricsServer, error) {
	if c.h == 0 {
		return nil, errClientClosed
	}
	defer runtime.KeepAlive(c)
	if address == "" {
		address = "127.0.0.1"
	}
	s := &MetricsServer{}
	if err := check(raw.Client_serve_metrics(c.h, address, port, &s.h)); err != nil {
		return nil, err
	}
	return s, nil
}

// Port is the port s listens on; 0 once closed.
func (s *MetricsServer) Port() int {
	return raw.Metrics_server_port(s.h)
}

// Close stops s. It is safe to call more than once.
func (s *MetricsServer) Close() error {
	if s.h != 0 {
		raw.Metrics_server_free(s.h)
		s.h = 0
	}
	return nil
}
