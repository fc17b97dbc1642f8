"""The Airflow pool ``orders_sync``: how many stores sync at once across every DAG run.

Its size is the deployment's max-workers, ``ORDERS_SYNC_MAX_WORKERS``
(:attr:`orders_sync.config.Settings.max_workers`, default 3, also the command line's
``--max-workers`` default). ``make airflow`` and the Docker init service create it; a run's
smaller ``max_workers`` conf is honoured on top of it by
:mod:`orders_sync.airflow_support.run_slots`.
"""

from __future__ import annotations

POOL_NAME = "orders_sync"
POOL_DESCRIPTION = "orders_sync: stores synced at once across all runs (ORDERS_SYNC_MAX_WORKERS)"
