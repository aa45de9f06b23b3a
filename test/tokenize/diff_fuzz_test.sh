# Differential fuzz: random and mutated UTF-8 strings, encoded by tiktoken
# (npm, its Rust core as WASM) and by llmkit, must give the same ids.
# usage: sh diff_fuzz_test.sh CHECKER [COUNT] [SEED]
# make test runs a bounded count with a fixed seed; make fuzz many more.
set -eu
checker=$1
count=${2:-${LLMKIT_FUZZ_CASES:-5000}}
seed=${3:-${LLMKIT_FUZZ_SEED:-20261122}}
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/oracle/node_modules/tiktoken" ] || { echo "FAIL: run scripts/install-deps.sh (npm ci in $here/oracle)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for enc in cl100k_base o200k_base p50k_base r50k_base; do
  node "$here/oracle/gen_cases.mjs" --encoding "$enc" --count "$count" --seed "$seed" --out "$tmp/$enc.bin"
  "$checker" "$enc" "$tmp/$enc.bin" || status=1
done
echo "seed $seed, $count cases per encoding"
exit $status
