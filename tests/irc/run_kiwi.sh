#!/usr/bin/env bash
# Installs irc-framework (npm ci) when missing, then runs kiwi.js PORT.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -d "$here/node_modules/irc-framework" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
exec node "$here/kiwi.js" "$@"
