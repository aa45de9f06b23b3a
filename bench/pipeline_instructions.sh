#!/bin/sh
# Instructions per call of the whole pipeline against the bare call, and of
# the bare call against the same request by plain libcurl, under callgrind:
# the calls of make bench's pipeline/full, http/chat and their baselines,
# counted where the machine's load cannot move them. Usage:
#   bench/pipeline_instructions.sh BUILD_DIR [CALLS]
set -eu
bin="$1/bench/llmkit_pipeline_calls"
calls="${2:-1000}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for mode in bare full curl; do
  # The bench's nginx inherits stdout: keep it off any pipe.
  valgrind --tool=callgrind --callgrind-out-file="$out/$mode" \
    --toggle-collect='*measured_calls*' "$bin" "$mode" "$calls" > "$out/$mode.log" 2>&1 < /dev/null
  eval "$mode=\$(sed -n 's/.*Collected : *//p' \"$out/$mode.log\")"
done
awk -v bare="$bare" -v full="$full" -v curl="$curl" -v n="$calls" 'BEGIN {
  printf "pipeline instructions per call: bare %d, full %d, added %d (%.2fx)\n",
         bare / n, full / n, (full - bare) / n, full / bare
  printf "bare call against plain libcurl: %d, %d, added %d (%.2fx)\n",
         bare / n, curl / n, (bare - curl) / n, bare / curl }'
