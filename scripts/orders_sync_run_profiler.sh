#!/usr/bin/env bash
# One run of the orders_sync run profiler (requirement §F), from any directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$ROOT/.venv/bin/python" -m orders_sync.run_profiler.main "$@"
