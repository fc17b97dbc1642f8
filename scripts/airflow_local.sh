#!/usr/bin/env bash
# A real local Airflow 3.3 running the orders_sync DAG, in one command (`make airflow`):
# api-server, scheduler (LocalExecutor), dag-processor and triggerer, metadata in the database
# `airflow` of the embedded PostgreSQL, AIRFLOW_HOME under .orders_sync/airflow, the pool
# orders_sync and the connections orders_sync_db / td_crm / uc_crm created, the DAG unpaused
# and one CRM simulator serving every task. Prints the URL and login; Ctrl-C stops it all.
# Usage: scripts/airflow_local.sh [--port 8080] [--max-workers M] [--paused] [--no-seed]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$ROOT/.venv/bin/python" -m orders_sync_devtools.airflow_stack "$@"
