# `llmkit serve-metrics` over a SQLite file of traces: it prints where it
# listens, serves the table's calls as Prometheus text, reads the table again
# for each scrape, stops on SIGTERM, and exits 2 or 1 for misuse.
. "$(dirname "$0")/lib.sh"
: "${LLMKIT_CLI:?}"
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (scripts/install-deps.sh)"
command -v curl >/dev/null || fail "curl is not installed (scripts/install-deps.sh)"
db="$TMP/traces.db"
sed -n '/R"(CREATE TABLE/,/)";/p' "$LLMKIT_SOURCE_DIR/lib/trace/schema.cpp" |
  sed -e 's/.*R"(//' -e 's/)";$//' > "$TMP/schema.sql"
n=0
row() { # model status latency_ms cost input output
  n=$((n + 1))
  echo "INSERT INTO llmkit_traces VALUES ('c$n', 0, 'shop', '', '[]', '{}', '', 'chat', 'openai', '$1', NULL, NULL, '$1', '$2', NULL, NULL, $5, $6, 0, 0, 0, $4, $3, NULL, 0, 0, 0, NULL, NULL);"
}
{
  cat "$TMP/schema.sql"; echo ';'
  row gpt-4o ok 30 0.5 100 10
  row gpt-4o ok 900 0.25 200 20
  row gpt-4o RATE_LIMITED 5 0 0 0
} | sqlite3 "$db"

"$LLMKIT_CLI" serve-metrics --db "$db" --port 0 > "$TMP/out" 2> "$TMP/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$TMP"' EXIT
i=0
until grep -q '^serving ' "$TMP/out"; do
  i=$((i + 1)); [ $i -lt 100 ] || fail "no 'serving' line: $(cat "$TMP/out" "$TMP/err")"
  kill -0 $pid 2>/dev/null || fail "serve-metrics exited: $(cat "$TMP/err")"
  sleep 0.1
done
url=$(sed -n 's/^serving //p' "$TMP/out")
echo "$url" | grep -qE '^http://127\.0\.0\.1:[0-9]+/metrics$' || fail "url: $url"
curl -sf "$url" > "$TMP/metrics" || fail "GET $url failed"
s='gen_ai_operation_name="chat",gen_ai_request_model="gpt-4o",gen_ai_provider_name="openai",deployment="gpt-4o"'
grep -qx "llmkit_requests_total{$s,status=\"ok\"} 2" "$TMP/metrics" || fail "ok: $(cat "$TMP/metrics")"
grep -qx "llmkit_requests_total{$s,status=\"RATE_LIMITED\"} 1" "$TMP/metrics" || fail "RATE_LIMITED"
grep -qx "llmkit_gen_ai_client_operation_duration_seconds_bucket{$s,le=\"0.04\"} 2" "$TMP/metrics" || fail "le=0.04"
grep -qx "llmkit_gen_ai_client_operation_duration_seconds_bucket{$s,le=\"1.28\"} 3" "$TMP/metrics" || fail "le=1.28"
grep -qx "llmkit_tokens_total{$s,type=\"input\"} 300" "$TMP/metrics" || fail "input tokens"
grep -qx "llmkit_cost_usd_total{$s} 0.75" "$TMP/metrics" || fail "cost"
grep -qx '# TYPE llmkit_requests_total counter' "$TMP/metrics" || fail "TYPE line"
# Every line is a comment or a sample "name{labels} value".
grep -vE '^(# (HELP|TYPE) .+|[a-z_]+(\{.*\})? [-+0-9.eInf]+)$' "$TMP/metrics" && fail "malformed lines above"

row gpt-4o ok 10 0 1 1 | sqlite3 "$db"
curl -sf "$url" | grep -qx "llmkit_requests_total{$s,status=\"ok\"} 3" || fail "not read again"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${url%/metrics}/nothing")" = 404 ] || fail "404"

kill -TERM $pid
wait $pid || fail "exit status $? after SIGTERM"

set +e
"$LLMKIT_CLI" serve-metrics --port 0 2> "$TMP/err"; rc_nodb=$?
"$LLMKIT_CLI" serve-metrics --db "$db" --port 99999 2> "$TMP/err_port"; rc_port=$?
"$LLMKIT_CLI" serve-metrics --db "$TMP/missing.db" --port 0 2> "$TMP/err_missing"; rc_missing=$?
"$LLMKIT_CLI" serve-metrics --db "$db" --port 0 --address nowhere 2> "$TMP/err_addr"; rc_addr=$?
set -e
[ "$rc_nodb" -eq 2 ] || fail "no --db exited $rc_nodb"
[ "$rc_port" -eq 2 ] || fail "--port 99999 exited $rc_port"
[ "$rc_missing" -eq 1 ] && grep -q NOT_FOUND "$TMP/err_missing" || fail "missing file exited $rc_missing"
[ "$rc_addr" -eq 1 ] && grep -q INVALID_ARGUMENT "$TMP/err_addr" || fail "bad address exited $rc_addr"
echo "cli serve-metrics: ok"
