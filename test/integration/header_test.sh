# llmkit.h compiles cleanly as strict C99 and as C++, on its own.
. "$(dirname "$0")/lib.sh"
printf '#include "llmkit.h"\nint main(void) { return llmkit_version() == 0; }\n' > "$TMP/h.c"
gcc -std=c99 -Wall -Wextra -pedantic -Werror -I"$LLMKIT_SOURCE_DIR/include" -c "$TMP/h.c" -o "$TMP/c.o"
clang -std=c99 -Weverything -Wno-declaration-after-statement -Werror -I"$LLMKIT_SOURCE_DIR/include" \
  -c "$TMP/h.c" -o "$TMP/clang.o"
cp "$TMP/h.c" "$TMP/h.cpp"
g++ -std=c++11 -Wall -Wextra -pedantic -Werror -I"$LLMKIT_SOURCE_DIR/include" -c "$TMP/h.cpp" -o "$TMP/cpp.o"
# No C++ type may appear in the header, and every declaration is llmkit_-prefixed.
if grep -nE 'std::|template|namespace|class ' "$LLMKIT_SOURCE_DIR/include/llmkit.h" \
   | grep -v '^[0-9]*: *\*\|^[0-9]*: */\*'; then
  fail "C++ constructs in llmkit.h"
fi
echo "header: ok"
