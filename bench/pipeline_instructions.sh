#!/bin/sh
# Instructions per call of the whole pipeline against the bare call, and of
# the bare call against the same request by plain libcurl, under callgrind:
# the calls of make bench's pipeline/full, http/chat and their baselines,
# counted where the machine's load cannot move them. The stages' own count
# leaves out the provider call (client::Client::chat): how many times curl
# polls for an answer moves a call by about 1.5k instructions, run to run.
# Usage: bench/pipeline_instructions.sh BUILD_DIR [CALLS]
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
  callgrind_annotate --inclusive=yes "$out/$mode" > "$out/$mode.txt"
  eval "${mode}_chat=\$(awk '/llmkit::client::Client::chat\\(/ { gsub(\",\", \"\", \$1); print \$1; exit }' \"$out/$mode.txt\")"
done
awk -v bare="$bare" -v full="$full" -v curl="$curl" -v n="$calls" \
    -v bare_chat="${bare_chat:-0}" -v full_chat="${full_chat:-0}" 'BEGIN {
  bare_own = bare - bare_chat; full_own = full - full_chat
  printf "pipeline instructions per call, besides the provider call: bare %d, full %d, added %d\n",
         bare_own / n, full_own / n, (full_own - bare_own) / n
  printf "whole call: bare %d, full %d (%.2fx)\n", bare / n, full / n, full / bare
  printf "bare call against plain libcurl: %d, %d, added %d (%.2fx)\n",
         bare / n, curl / n, (bare - curl) / n, bare / curl }'
