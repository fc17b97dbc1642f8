#!/usr/bin/env bash
# Preflight: is this deployment ready to sync? (read-only): see interfaces.md "Preflight".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$ROOT/.venv/bin/python" -m orders_sync.check "$@"
