#!/usr/bin/env bash
# Browser tests of the chat page (web/): Debian's chromium driven by
# playwright-core, run by node's built-in test runner against the real binary.
#   tests/browser/run.sh            # binary from $CHATGATE_BIN or build/chatgate
# Installs chromium (apt) and the npm dependencies (npm ci) only when missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CHATGATE_BIN="${CHATGATE_BIN:-$root/build/chatgate}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x /usr/bin/chromium ]; then
  echo "run.sh: installing Debian's chromium" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "run.sh: node and npm are needed (node >= 20)" >&2
  exit 1
fi

if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "run.sh: installing npm dependencies (npm ci)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ ! -x "$CHATGATE_BIN" ]; then
  echo "run.sh: no chatgate binary at $CHATGATE_BIN: build it first, or set CHATGATE_BIN" >&2
  exit 1
fi

cd "$here"
# One file at a time: the machine is small and each file starts its own server.
exec node --test --test-concurrency=1 --test-timeout=90000 \
  modules.test.mjs chat.test.mjs conversations.test.mjs reconnect.test.mjs layout.test.mjs tls.test.mjs
