#!/usr/bin/env bash
# td_orders_sync: TD orders + sales of every active TD store (or --store-code) over one window.
# Usage: scripts/td_orders_sync.sh [--env E] [--store-code C] [--from-date D] [--to-date D]
#                                  [--orders-only | --sales-only]
# Works from any directory; uses the project's own virtualenv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # also before `make install` has run
exec "$ROOT/.venv/bin/python" -m orders_sync.pipelines td_orders_sync "$@"
