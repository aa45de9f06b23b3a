# The shared library exports the llmkit_* API and nothing else.
. "$(dirname "$0")/lib.sh"
: "${LLMKIT_SHARED:?}"
nm -D --defined-only "$LLMKIT_SHARED" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sed 's/@.*//' > "$TMP/syms"
[ -s "$TMP/syms" ] || fail "no exported symbols"
if grep -v '^llmkit_' "$TMP/syms"; then fail "symbols outside llmkit_* are exported"; fi
# Every function declared in the header is exported.
grep -oE 'LLMKIT_API [^;]*\bllmkit_[a-z0-9_]+\(' "$LLMKIT_SOURCE_DIR/include/llmkit.h" \
  | grep -oE 'llmkit_[a-z0-9_]+\($' | tr -d '(' | sort -u > "$TMP/declared"
sort -u "$TMP/syms" > "$TMP/exported"
missing=$(comm -23 "$TMP/declared" "$TMP/exported")
[ -z "$missing" ] || fail "declared but not exported: $missing"
extra=$(comm -13 "$TMP/declared" "$TMP/exported")
[ -z "$extra" ] || fail "exported but not declared in llmkit.h: $extra"
soname=$(readelf -d "$LLMKIT_SHARED" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libllmkit.so.0" ] || fail "SONAME is '$soname'"
[ -f "$LLMKIT_BUILD_DIR/libllmkit.so.0.1.0" ] || fail "no versioned libllmkit.so.0.1.0"
echo "exports: $(wc -l < "$TMP/exported") functions, ok"
