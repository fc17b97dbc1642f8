#!/usr/bin/env bash
# Serve the simulated TD and UC CRM APIs (shared/contracts/source-api.md).
# Usage: scripts/crm_simulator.sh --host 127.0.0.1 --port 8765 [--seed N] [--stores A001,UC104]
#        [--stores-from-db] [--latency-ms X] [--clock RFC3339]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$ROOT/.venv/bin/python" -m orders_sync_devtools.simulator "$@"
