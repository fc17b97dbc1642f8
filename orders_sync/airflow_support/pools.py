"""The Airflow pool ``orders_sync``: how many stores sync at once across every DAG run.

Its size is the deployment's max-workers, ``ORDERS_SYNC_MAX_WORKERS`` (default 3, the same
default as the command line's ``--max-workers``). ``make airflow`` and the Docker init
service create it; a run's smaller ``max_workers`` conf is honoured on top of it by
:mod:`orders_sync.airflow_support.run_slots`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from orders_sync.exceptions import ConfigurationError

POOL_NAME = "orders_sync"
POOL_DESCRIPTION = "orders_sync: stores synced at once across all runs (ORDERS_SYNC_MAX_WORKERS)"
MAX_WORKERS_VARIABLE = "ORDERS_SYNC_MAX_WORKERS"
DEFAULT_POOL_SLOTS = 3  # = orders_sync.run_profiler.service.DEFAULT_MAX_WORKERS (tested)


def pool_slots_from_env(env: Mapping[str, str] | None = None) -> int:
    """``ORDERS_SYNC_MAX_WORKERS`` (default 3): the pool's slots and the DAG's default.

    Raises:
        ConfigurationError: the variable is not a whole number of at least 1.
    """
    env = os.environ if env is None else env
    raw = env.get(MAX_WORKERS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_POOL_SLOTS
    try:
        slots = int(raw)
    except ValueError:
        slots = 0
    if slots < 1:
        raise ConfigurationError(
            f"{MAX_WORKERS_VARIABLE}={raw!r} must be a whole number of at least 1."
        )
    return slots
