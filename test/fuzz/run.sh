# Runs every libFuzzer target in BUILD_DIR for SECONDS each, seeded with the
# tokenizer corpus; any crash fails. usage: sh test/fuzz/run.sh BUILD_DIR SECONDS
set -eu
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
for fuzzer in "$build"/test/fuzz/*_fuzz; do
  work=$(mktemp -d)
  # Seeds: corpus slices, each prefixed with the encoding and mode bytes.
  i=0
  for f in "$here"/../fixtures/tokenize/corpus/*.txt; do
    i=$((i + 1))
    { printf "\\$(printf %o $((i % 4)))\\$(printf %o $((i % 3)))"; head -c 2000 "$f"; } > "$work/seed$i"
  done
  cp "$here"/../fixtures/openai/*.json "$work"/  # provider JSON for the cache's parsers
  echo "fuzz: $(basename "$fuzzer") for ${seconds}s"
  "$fuzzer" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$work" 2>&1 | tail -5
  rm -rf "$work"
done
