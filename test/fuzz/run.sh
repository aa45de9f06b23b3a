# Runs every libFuzzer target in BUILD_DIR for SECONDS each, seeded with the
# tokenizer corpus (providers_fuzz: the provider fixtures); any crash fails.
# usage: sh test/fuzz/run.sh BUILD_DIR SECONDS
set -eu
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
for fuzzer in "$build"/test/fuzz/*_fuzz; do
  work=$(mktemp -d)
  i=0
  max_len=4096
  case $(basename "$fuzzer") in
    providers_fuzz)
      max_len=8192  # the largest recorded answers are about 6 KB
      # Seeds: every recorded provider answer, prefixed with the byte that
      # picks its provider and mode (provider index, + 5 for a stream) and
      # one that picks how a stream is cut.
      for dir in openai anthropic gemini ollama; do
        case $dir in
          openai) index=0 ;;
          anthropic) index=2 ;;
          gemini) index=3 ;;
          ollama) index=4 ;;
        esac
        for f in "$here"/../fixtures/$dir/*.json "$here"/../fixtures/$dir/*.sse \
          "$here"/../fixtures/$dir/*.ndjson; do
          [ -f "$f" ] || continue
          case $f in *.expected.json) continue ;; esac
          mode=$index
          case $f in *.sse | *.ndjson) mode=$((index + 5)) ;; esac
          i=$((i + 1))
          { printf "\\$(printf %o $mode)\\$(printf %o $((i * 7 % 64)))"; cat "$f"; } > "$work/seed$i"
          if [ "$dir" = openai ]; then  # and as an OpenAI-compatible server's
            i=$((i + 1))
            { printf "\\$(printf %o $((mode + 1)))\\$(printf %o $((i * 7 % 64)))"; cat "$f"; } > "$work/seed$i"
          fi
        done
      done
      ;;
    *)
      # Seeds: corpus slices, each prefixed with the encoding and mode bytes.
      for f in "$here"/../fixtures/tokenize/corpus/*.txt; do
        i=$((i + 1))
        { printf "\\$(printf %o $((i % 4)))\\$(printf %o $((i % 3)))"; head -c 2000 "$f"; } > "$work/seed$i"
      done
      cp "$here"/../fixtures/openai/*.json "$work"/  # provider JSON for the cache's parsers
      ;;
  esac
  echo "fuzz: $(basename "$fuzzer") for ${seconds}s"
  # Not through a pipe alone: a crash must fail the run, not only tail's status.
  status=0
  "$fuzzer" -max_total_time="$seconds" -max_len=$max_len -print_final_stats=1 "$work" \
    > "$work.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    grep -v '^#' "$work.log" | tail -60
    echo "fuzz: $(basename "$fuzzer") failed (exit $status)"
    rm -rf "$work" "$work.log"
    exit 1
  fi
  tail -5 "$work.log"
  rm -rf "$work" "$work.log"
done
