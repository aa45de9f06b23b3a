#!/bin/sh
# Installs the Debian packages llmkit needs to build, test and run its bindings.
# Idempotent: packages already present are left alone, and apt-get runs only when
# something is missing. Never downloads anything outside Debian's archive.
set -eu

PACKAGES="
build-essential cmake pkg-config clang clang-tidy clang-format
libcurl4-openssl-dev libmimalloc-dev
libgtest-dev libgmock-dev libbenchmark-dev
swig golang-go ruby-dev ruby-minitest rake mono-devel nunit-console
python3
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
