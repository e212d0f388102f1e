#!/usr/bin/env bash
# Installs irc-framework (npm ci) when missing, then runs a script of this
# folder: run_kiwi.sh [SCRIPT.js] ARGS... (kiwi.js when none is named).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -d "$here/node_modules/irc-framework" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
script=kiwi.js
if [[ "${1:-}" == *.js ]]; then script="$1"; shift; fi
exec node "$here/$script" "$@"
