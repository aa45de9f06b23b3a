#!/bin/sh
# `make demo`: runs what llmkit does today end to end, offline, no API key.
# usage: sh scripts/demo.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
stage="$build/stage"
cmake --install "$build" --prefix "$stage" > /dev/null
export LD_LIBRARY_PATH="$stage/lib"

echo "== the llmkit CLI"
"$stage/bin/llmkit" version
"$stage/bin/llmkit" statuses

echo "== the C example, built against the installed tree with pkg-config"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
cc examples/c/example.c -o "$tmp/example" \
  $(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --cflags --libs llmkit)
"$tmp/example"

echo "== the same through Python ctypes (dlopen, no binding)"
LLMKIT_LIBRARY="$stage/lib/libllmkit.so.0" python3 -B examples/python/example.py
