# A host linked with llmkit (shared, or static with pkg-config's private
# libs) keeps glibc's malloc; llmkit's own objects come from mimalloc.
. "$(dirname "$0")/lib.sh"
: "${LLMKIT_SHARED:?}" "${LLMKIT_STATIC:?}"
src="$(dirname "$0")/host_malloc.c"
inc="-I$LLMKIT_SOURCE_DIR/include"
if [ -n "${LLMKIT_SANITIZE:-}" ]; then
  # Sanitizer builds use the system allocator; only check nothing replaced it.
  san="-fsanitize=$LLMKIT_SANITIZE"; want=system
else
  san=""; want=mimalloc
fi
private=$(sed -n 's/^Libs.private: *//p' "$LLMKIT_BUILD_DIR/llmkit.pc")

# shellcheck disable=SC2086
gcc $san $inc "$src" -o "$TMP/shared" -L"$(dirname "$LLMKIT_SHARED")" -lllmkit -ldl
LD_LIBRARY_PATH="$(dirname "$LLMKIT_SHARED")" "$TMP/shared" "$want" || fail "shared library host"

# shellcheck disable=SC2086
gcc $san $inc "$src" -o "$TMP/static" "$LLMKIT_STATIC" $private -ldl
"$TMP/static" "$want" || fail "static library host"
