#!/bin/sh
# Runs a command against a fresh test/upstream/upstream.py, the fake
# provider: starts it on a free port, runs the command with each argument
# "{}" replaced by its base URL (http://127.0.0.1:PORT), stops it, and exits
# with the command's status. A fresh one per run: fault counters
# (times=N,id=X) live in the upstream process.
# usage: sh examples/with_upstream.sh COMMAND [ARG | {}]...
set -eu
[ $# -gt 0 ] || { echo "usage: with_upstream.sh COMMAND [ARG | {}]..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
mkfifo "$tmp/out"
python3 "$root/test/upstream/upstream.py" > "$tmp/out" &
upstream=$!
trap 'kill $upstream 2>/dev/null; rm -rf "$tmp"' EXIT
# Its first line is "port N"; it writes nothing else there.
read -r word port < "$tmp/out" || true
[ "${word:-}" = port ] || { echo "with_upstream.sh: the fake provider did not start" >&2; exit 1; }
for arg; do
  shift
  [ "$arg" = "{}" ] && arg="http://127.0.0.1:$port"
  set -- "$@" "$arg"
done
status=0
"$@" || status=$?
exit $status
