# The CLI answers as documented, including exit codes for misuse.
. "$(dirname "$0")/lib.sh"
: "${LLMKIT_CLI:?}"
"$LLMKIT_CLI" statuses > "$TMP/st"
grep -qx ' 0 OK' "$TMP/st" || fail "no OK line"
grep -qx ' 2 NOT_FOUND' "$TMP/st" || fail "no NOT_FOUND line"
# Every enumerator in the header is listed, and the walk stopped at UNKNOWN.
n_header=$(sed -n '/^typedef enum llmkit_status/,/} llmkit_status;/p' "$LLMKIT_SOURCE_DIR/include/llmkit.h" |
  grep -cE '^ *LLMKIT_[A-Z_]+ = [0-9]+')
[ "$(wc -l < "$TMP/st")" -eq "$n_header" ] || fail "statuses lists $(wc -l < "$TMP/st"), header has $n_header"
"$LLMKIT_CLI" help | grep -q '^usage: llmkit' || fail "help"
set +e
"$LLMKIT_CLI" no-such-command 2> "$TMP/err"; rc=$?
"$LLMKIT_CLI" 2>/dev/null; rc_empty=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown command exited $rc"
[ "$rc_empty" -eq 2 ] || fail "no command exited $rc_empty"
grep -q "unknown command 'no-such-command'" "$TMP/err" || fail "unknown command message"

# tokens: encode matches tiktoken's ids, decode gives the bytes back, count
# agrees, stdin works, and misuse is an error.
fx="$LLMKIT_SOURCE_DIR/test/fixtures/tokenize"
"$LLMKIT_CLI" tokens encode --encoding cl100k_base "$fx/corpus/english.txt" > "$TMP/ids"
cmp -s "$TMP/ids" "$fx/golden/cl100k_base/english.ids" || fail "tokens encode differs from tiktoken"
"$LLMKIT_CLI" tokens decode --encoding cl100k_base "$TMP/ids" > "$TMP/back"
cmp -s "$TMP/back" "$fx/corpus/english.txt" || fail "tokens decode did not give the text back"
[ "$("$LLMKIT_CLI" tokens count --encoding cl100k_base "$fx/corpus/english.txt")" = "$(wc -w < "$TMP/ids" | tr -d ' ')" ] \
  || fail "tokens count disagrees with encode"
[ "$(printf 'hello world' | "$LLMKIT_CLI" tokens encode --model gpt-4)" = "15339 1917" ] || fail "stdin/--model"
set +e
"$LLMKIT_CLI" tokens count --encoding nope_base "$fx/special.txt" 2> "$TMP/err"; rc_enc=$?
"$LLMKIT_CLI" tokens count --encoding cl100k_base --model gpt-4 < /dev/null 2>/dev/null; rc_both=$?
printf 'bad \377' | "$LLMKIT_CLI" tokens count --model gpt-4o 2> "$TMP/err8"; rc_utf8=$?
set -e
[ "$rc_enc" -eq 1 ] && grep -q "NOT_FOUND: unknown encoding 'nope_base'" "$TMP/err" || fail "unknown encoding"
[ "$rc_both" -eq 2 ] || fail "--encoding with --model exited $rc_both"
[ "$rc_utf8" -eq 1 ] && grep -q "byte offset 4" "$TMP/err8" || fail "invalid UTF-8 from stdin"
echo "cli tokens: ok"
