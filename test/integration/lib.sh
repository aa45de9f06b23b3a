# Shared helpers for the integration checks (sourced, POSIX sh).
set -eu
: "${LLMKIT_SOURCE_DIR:?}" "${LLMKIT_BUILD_DIR:?}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
