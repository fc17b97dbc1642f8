#!/usr/bin/env bash
# uc_orders_sync: UC GST lines of every active UC store (or --store-code) over one window.
# Usage: scripts/uc_orders_sync.sh [--env E] [--store-code C] [--from-date D] [--to-date D]
# Works from any directory; uses the project's own virtualenv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # also before `make install` has run
exec "$ROOT/.venv/bin/python" -m orders_sync.pipelines uc_orders_sync "$@"
