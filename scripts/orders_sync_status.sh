#!/usr/bin/env bash
# Coverage of every store + pipeline from orders_sync_log (read-only): see interfaces.md "Status".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$ROOT/.venv/bin/python" -m orders_sync.status "$@"
