# `make install` into a temporary prefix gives a tree that an outside C
# project can build against with pkg-config and with CMake's find_package.
. "$(dirname "$0")/lib.sh"
prefix="$TMP/prefix"
cmake --install "$LLMKIT_BUILD_DIR" --prefix "$prefix" > /dev/null
for f in include/llmkit.h lib/libllmkit.so.0.1.0 lib/libllmkit.a lib/pkgconfig/llmkit.pc \
         lib/cmake/llmkit/llmkitConfig.cmake bin/llmkit; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
[ "$(readlink "$prefix/lib/libllmkit.so.0")" = libllmkit.so.0.1.0 ] || fail "libllmkit.so.0 link"

san=${LLMKIT_SANITIZE:+-fsanitize=$LLMKIT_SANITIZE}
ex="$LLMKIT_SOURCE_DIR/examples/c"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion llmkit)" = 0.1.0 ] || fail "pkg-config --modversion"

# 1. pkg-config
# shellcheck disable=SC2046
gcc -std=c99 -Wall -Werror $san "$ex/example.c" -o "$TMP/ex-pc" $(pkg-config --cflags --libs llmkit)
LD_LIBRARY_PATH="$prefix/lib" "$TMP/ex-pc" > "$TMP/out-pc"
diff -u "$ex/expected.txt" "$TMP/out-pc" || fail "pkg-config build printed something else"

# 2. find_package, in a build tree outside the source
cmake -S "$ex" -B "$TMP/ex-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" > /dev/null
cmake --build "$TMP/ex-cmake" > /dev/null
LD_LIBRARY_PATH="$prefix/lib" "$TMP/ex-cmake/example" > "$TMP/out-cmake"
diff -u "$ex/expected.txt" "$TMP/out-cmake" || fail "find_package build printed something else"
# 3. the shared-memory rate limit example: two processes, one limit
# shellcheck disable=SC2046
gcc -std=c99 -Wall -Werror $san "$ex/ratelimit.c" -o "$TMP/ratelimit" $(pkg-config --cflags --libs llmkit)
name="install-test-$$"
for run in 1 2; do LD_LIBRARY_PATH="$prefix/lib" "$TMP/ratelimit" "$name" 3; done > "$TMP/out-rl"
rm -f "/dev/shm/llmkit-$name"
diff -u "$ex/ratelimit_expected.txt" "$TMP/out-rl" || fail "the rate limit example printed something else"
# 4. the response cache example
# shellcheck disable=SC2046
gcc -std=c99 -Wall -Werror $san "$ex/cache.c" -o "$TMP/cache" $(pkg-config --cflags --libs llmkit)
LD_LIBRARY_PATH="$prefix/lib" "$TMP/cache" > "$TMP/out-cache"
diff -u "$ex/cache_expected.txt" "$TMP/out-cache" || fail "the cache example printed something else"
# 5. provider calls, and 6. the whole pipeline (make demo's main job), each
# against a fresh fake provider (its fault counters are per process)
for prog in chat pipeline; do
  # shellcheck disable=SC2046
  gcc -std=c99 -Wall -Werror $san "$ex/$prog.c" -o "$TMP/$prog" $(pkg-config --cflags --libs llmkit)
  LD_LIBRARY_PATH="$prefix/lib" sh "$LLMKIT_SOURCE_DIR/examples/with_upstream.sh" "$TMP/$prog" {} \
    > "$TMP/out-$prog"
  diff -u "$ex/${prog}_expected.txt" "$TMP/out-$prog" || fail "the $prog example printed something else"
done
echo "install: pkg-config and find_package builds ok"
