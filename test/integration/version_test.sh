# The header's version macros, CMake's project version and the library agree.
. "$(dirname "$0")/lib.sh"
h="$LLMKIT_SOURCE_DIR/include/llmkit.h"
v=$(for p in MAJOR MINOR PATCH; do sed -n "s/^#define LLMKIT_VERSION_$p \([0-9]*\)$/\1/p" "$h"; done | paste -sd.)
s=$(sed -n 's/^#define LLMKIT_VERSION_STRING "\(.*\)"$/\1/p' "$h")
c=$(sed -n 's/^project(llmkit VERSION \([0-9.]*\).*/\1/p' "$LLMKIT_SOURCE_DIR/CMakeLists.txt")
[ "$v" = "$s" ] || fail "macros say $v, LLMKIT_VERSION_STRING says $s"
[ "$v" = "$c" ] || fail "header says $v, CMakeLists.txt says $c"
out=$("$LLMKIT_CLI" version)
[ "$out" = "llmkit $v" ] || fail "llmkit version printed '$out'"
echo "version: $v, ok"
