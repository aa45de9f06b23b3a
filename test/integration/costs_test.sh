# `llmkit costs` over a SQLite file of traces: the table, --json, the
# flags, and exit codes for misuse.
. "$(dirname "$0")/lib.sh"
: "${LLMKIT_CLI:?}"
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (scripts/install-deps.sh)"
db="$TMP/traces.db"
# The schema exactly as the library writes it.
sed -n '/R"(CREATE TABLE/,/)";/p' "$LLMKIT_SOURCE_DIR/lib/trace/schema.cpp" |
  sed -e 's/.*R"(//' -e 's/)";$//' > "$TMP/schema.sql"
n=0
row() { # time_us application caller model cost status input output
  n=$((n + 1))
  echo "INSERT INTO llmkit_traces VALUES ('c$n', $1, '$2', '', '[]', '{}', '$3', 'chat', 'openai', '$4', NULL, NULL, NULL, '$6', NULL, NULL, $7, $8, 0, 0, 0, $5, 10, NULL, 0, 0, 0, NULL, NULL);"
}
now=$(date +%s)
{
  cat "$TMP/schema.sql"; echo ';'
  row $(( (now - 3600) * 1000000 )) shop alice gpt-4o 0.5 ok 100 10
  row $(( (now - 1800) * 1000000 )) shop bob gpt-4o 1.25 ok 200 20
  row $(( (now - 600) * 1000000 )) blog alice claude 2 ok 300 30
  row $(( (now - 60) * 1000000 )) blog alice claude 0 RATE_LIMITED 0 0
  row $(( (now - 3 * 86400) * 1000000 )) blog carol claude 9 ok 1 1
} | sqlite3 "$db"

"$LLMKIT_CLI" costs --db "$db" --since 24h > "$TMP/out"
head -1 "$TMP/out" | grep -qE '^model +requests +errors +cache_hits .* cost_usd$' || fail "header: $(head -1 "$TMP/out")"
sed -n 2p "$TMP/out" | grep -qE '^claude +2 +1 +0 .* 2\.000000$' || fail "claude row: $(sed -n 2p "$TMP/out")"
sed -n 3p "$TMP/out" | grep -qE '^gpt-4o +2 +0 .* 1\.750000$' || fail "gpt-4o row: $(sed -n 3p "$TMP/out")"
tail -1 "$TMP/out" | grep -qE '^total +4 +1 .* 3\.750000$' || fail "total: $(tail -1 "$TMP/out")"
# Columns line up: every line is as long as the header.
[ "$(awk '{ print length($0) }' "$TMP/out" | sort -u | wc -l)" -eq 1 ] || fail "columns not aligned"

"$LLMKIT_CLI" costs --db "sqlite:$db" --by application,caller --top 1 --json > "$TMP/json"
grep -q '^{"rows":\[{"application":"blog","caller":"carol","requests":1,' "$TMP/json" ||
  fail "json: $(cat "$TMP/json")"
grep -q '"total":{"requests":5,.*"cost_usd":12.75}}$' "$TMP/json" || fail "json total: $(cat "$TMP/json")"
"$LLMKIT_CLI" costs --db "$db" --by '' --per day --model claude --json | grep -q '"time":"' || fail "--per day"
"$LLMKIT_CLI" costs --db "$db" --by caller --caller carol | grep -qE '^carol +1 ' || fail "--caller"

set +e
"$LLMKIT_CLI" costs --by model 2> "$TMP/err"; rc_nodb=$?
"$LLMKIT_CLI" costs --db "$db" --per week 2> "$TMP/err_per"; rc_per=$?
"$LLMKIT_CLI" costs --db "$db" --colour red 2>/dev/null; rc_flag=$?
"$LLMKIT_CLI" costs --db "$TMP/missing.db" 2> "$TMP/err_missing"; rc_missing=$?
"$LLMKIT_CLI" costs --db "jsonl:$TMP/t.jsonl" 2> "$TMP/err_jsonl"; rc_jsonl=$?
"$LLMKIT_CLI" costs --db "$db" --since 2> "$TMP/err_since"; rc_since=$?
set -e
[ "$rc_nodb" -eq 2 ] && grep -q -- "--db" "$TMP/err" || fail "no --db exited $rc_nodb"
[ "$rc_per" -eq 2 ] && grep -q 'INVALID_ARGUMENT: .*"per"' "$TMP/err_per" || fail "--per week exited $rc_per"
[ "$rc_flag" -eq 2 ] || fail "unknown flag exited $rc_flag"
[ "$rc_missing" -eq 1 ] && grep -q NOT_FOUND "$TMP/err_missing" || fail "missing file exited $rc_missing"
[ "$rc_jsonl" -eq 1 ] && grep -q UNSUPPORTED "$TMP/err_jsonl" || fail "jsonl exited $rc_jsonl"
[ "$rc_since" -eq 2 ] && grep -q -- '--since needs a value' "$TMP/err_since" || fail "--since without a value exited $rc_since"
echo "cli costs: ok"
