# The CLI answers as documented, including exit codes for misuse.
. "$(dirname "$0")/lib.sh"
: "${LLMKIT_CLI:?}"
"$LLMKIT_CLI" statuses > "$TMP/st"
grep -qx ' 0 OK' "$TMP/st" || fail "no OK line"
grep -qx ' 2 NOT_FOUND' "$TMP/st" || fail "no NOT_FOUND line"
# Every enumerator in the header is listed, and the walk stopped at UNKNOWN.
n_header=$(grep -cE '^ *LLMKIT_[A-Z_]+ = [0-9]+' "$LLMKIT_SOURCE_DIR/include/llmkit.h")
[ "$(wc -l < "$TMP/st")" -eq "$n_header" ] || fail "statuses lists $(wc -l < "$TMP/st"), header has $n_header"
"$LLMKIT_CLI" help | grep -q '^usage: llmkit' || fail "help"
set +e
"$LLMKIT_CLI" no-such-command 2> "$TMP/err"; rc=$?
"$LLMKIT_CLI" 2>/dev/null; rc_empty=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown command exited $rc"
[ "$rc_empty" -eq 2 ] || fail "no command exited $rc_empty"
grep -q "unknown command 'no-such-command'" "$TMP/err" || fail "unknown command message"
echo "cli: ok"
