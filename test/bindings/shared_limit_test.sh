#!/bin/sh
# A Go, a Ruby, a C# and a C process check one key of one shared-memory rate
# limit (1000 a second, burst 50) at the same time, for a second: together
# they are admitted no more than the limit allows over the time they ran,
# and each gets a share.
# usage: sh test/bindings/shared_limit_test.sh STAGE WORKER
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
stage=$1
worker=$2
export PKG_CONFIG_PATH="$stage/lib/pkgconfig" LD_LIBRARY_PATH="$stage/lib" CGO_ENABLED=1
tmp=$(mktemp -d)
name="bindings-test-$$"
trap 'rm -rf "$tmp"; rm -f "/dev/shm/llmkit-$name"' EXIT

(cd "$here" && go build -o "$tmp/hammer-go" .)
mcs -nologo -warnaserror -langversion:7.2 -r:"$root/bindings/csharp/build/Llmkit.dll" \
  -out:"$tmp/Hammer.exe" "$here/Hammer.cs"
cp "$root/bindings/csharp/build/Llmkit.dll" "$tmp/"

# Every process starts checking at the same moment, once all have started.
start=$(( $(date +%s%3N) + 2000 ))
"$tmp/hammer-go" "$name" $start 1000 > "$tmp/go.out" &
ruby -I"$root/bindings/ruby/lib" -I"$root/bindings/ruby/build" "$here/hammer.rb" "$name" $start 1000 \
  > "$tmp/ruby.out" &
LD_LIBRARY_PATH="$root/bindings/csharp/build:$LD_LIBRARY_PATH" mono "$tmp/Hammer.exe" "$name" $start 1000 \
  > "$tmp/csharp.out" &
"$worker" hammer $start 1000 shared backend=shm shm.name="$name" requests=1000 window=1 \
  burst_requests=50 > "$tmp/c.out" &
wait

cat "$tmp"/*.out
cat "$tmp"/*.out | awk '
  { total += $2; if ($2 == 0) idle = idle " " $1
    if (first == "" || $3 < first) first = $3; if ($4 > last) last = $4 }
  END {
    bound = 50 + int((last - first) / 1000) + 1
    printf "admitted %d, bound %d (burst 50 + %.1f ms at 1 a ms)\n", total, bound, (last - first) / 1000
    if (total > bound) { print "FAIL: more than the limit"; exit 1 }
    if (total < 800) { print "FAIL: the limit was not shared"; exit 1 }
    if (idle != "") { print "FAIL: admitted nothing:" idle; exit 1 }
  }'
