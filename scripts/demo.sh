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

echo "== exact token counts, offline (tiktoken's ids; the rank data is inside the library)"
printf 'Hello, world! Token counting in llmkit.' | "$stage/bin/llmkit" tokens encode --model gpt-4o
for model in gpt-4o gpt-4 text-davinci-003; do
  printf '%-18s %s tokens in README.md\n' "$model" "$("$stage/bin/llmkit" tokens count --model "$model" README.md)"
done

echo "== the C example, built against the installed tree with pkg-config"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
cc examples/c/example.c -o "$tmp/example" \
  $(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --cflags --libs llmkit)
"$tmp/example"

echo "== the same through Python ctypes (dlopen, no binding)"
LLMKIT_LIBRARY="$stage/lib/libllmkit.so.0" python3 -B examples/python/example.py

echo "== one rate limit shared by processes: two runs, five requests a minute between them"
# shellcheck disable=SC2046
cc examples/c/ratelimit.c -o "$tmp/ratelimit" \
  $(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --cflags --libs llmkit)
name="demo-$$"
trap 'rm -rf "$tmp" "/dev/shm/llmkit-$name"' EXIT
"$tmp/ratelimit" "$name" 3
"$tmp/ratelimit" "$name" 3

echo "== the response cache: one entry for two spellings, replay as a stream, embeddings per input"
# shellcheck disable=SC2046
cc examples/c/cache.c -o "$tmp/cache" \
  $(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --cflags --libs llmkit)
"$tmp/cache"

# Each run below gets a fake provider of its own (examples/with_upstream.sh
# passes its URL as {}): the faults it injects count per process.
echo "== provider calls: OpenAI, Anthropic, Gemini and Ollama formats from a local fake provider"
# shellcheck disable=SC2046
cc examples/c/chat.c -o "$tmp/chat" \
  $(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --cflags --libs llmkit)
sh examples/with_upstream.sh "$tmp/chat" {} --timing

echo "== the main job: one client through the whole pipeline (hooks in two scopes, two deployments"
echo "   with a fallback rule, a cache hit, a rate-limited caller, a retry, a fallback, a stream)"
# shellcheck disable=SC2046
cc examples/c/pipeline.c -o "$tmp/pipeline" \
  $(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --cflags --libs llmkit)
sh examples/with_upstream.sh "$tmp/pipeline" {} --timing

# The bindings built against the same install (make demo builds them first):
# each binding's Makefile runs its examples/<lang> flow.
for binding in "go Go" "ruby Ruby" "csharp C#"; do
  echo "== the same flow from ${binding#* }"
  make -s --no-print-directory -C "bindings/${binding%% *}" STAGE="$stage" flow ARGS=--timing
done

echo "== a recorded answer, normalised: llmkit replay"
"$stage/bin/llmkit" replay --provider anthropic --stream test/fixtures/anthropic/stream_tool_use.sse
