#!/bin/sh
# Installs the Debian packages llmkit needs to build, test and run its bindings.
# Idempotent: packages already present are left alone, and apt-get runs only when
# something is missing. Never downloads anything outside Debian's archive.
set -eu

PACKAGES="
build-essential cmake pkg-config clang libclang-rt-14-dev clang-tidy clang-format
libcurl4-openssl-dev libmimalloc-dev libxxhash-dev libzstd-dev libsimdjson-dev libhiredis-dev redis-server
libpq-dev postgresql libsqlite3-dev
libgtest-dev libgmock-dev libbenchmark-dev nginx valgrind
swig golang-go ruby-dev ruby-minitest rake mono-devel nunit-console
python3
"
# Node runs the reference tokenizer (npm tiktoken) for tests and benchmarks;
# the machine image may bring its own build, else Debian's.
command -v node >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# The npm packages the tokenizer tests compare against, pinned by the lock
# file; reinstalled only when the lock file is newer than the install.
oracle="$(dirname "$0")/../test/tokenize/oracle"
if [ ! -f "$oracle/node_modules/.package-lock.json" ] ||
   [ "$oracle/package-lock.json" -nt "$oracle/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in test/tokenize/oracle"
  (cd "$oracle" && npm ci --no-audit --no-fund --loglevel=error)
fi
