"""The DAG's parse-time knobs, read from the environment only (no database, no network).

The dag-processor parses the DAG file often; everything here is a few ``os.environ``
reads. The values only set the schedule and the trigger form's defaults: a run's conf
still overrides every option.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from orders_sync.config import settings_from_env
from orders_sync.exceptions import ConfigurationError

SCHEDULE_VARIABLE = "ORDERS_SYNC_DAG_SCHEDULE"
DEFAULT_SCHEDULE = "30 2 * * *"  # 02:30 in the pipeline timezone: after the stores close
NO_SCHEDULE = "none"


@dataclasses.dataclass(frozen=True)
class DagConfig:
    """What the DAG file needs at parse time.

    Attributes:
        timezone: ``ORDERS_SYNC_TIMEZONE``: the cron's timezone and every "today".
        schedule: cron expression in ``timezone``; ``None``: manual runs only.
        env: default ``env`` param (``ORDERS_SYNC_ENV``).
        max_workers: default ``max_workers`` param (``ORDERS_SYNC_MAX_WORKERS``).
        settle_days: default ``settle_days`` param (``ORDERS_SYNC_SETTLE_DAYS``).
        task_timeout_s: ``sync_store``'s ceiling (``ORDERS_SYNC_TASK_TIMEOUT``); Airflow's
            ``execution_timeout`` is a backstop a little above it.
        dagrun_timeout_s: the DAG's ``dagrun_timeout`` (``ORDERS_SYNC_DAGRUN_TIMEOUT``).
    """

    timezone: str
    schedule: str | None
    env: str
    max_workers: int
    settle_days: int
    task_timeout_s: float
    dagrun_timeout_s: float


def dag_config_from_env(env: Mapping[str, str] | None = None) -> DagConfig:
    """Read and validate the DAG's knobs.

    ``ORDERS_SYNC_DAG_SCHEDULE`` is a cron expression (default ``30 2 * * *``) or ``none``
    for manual runs only.

    Raises:
        ConfigurationError: a variable holds an unusable value (the DAG then shows an
            import error naming it).
    """
    env = os.environ if env is None else env
    settings = settings_from_env(env)
    raw_schedule = env.get(SCHEDULE_VARIABLE, "").strip() or DEFAULT_SCHEDULE
    schedule = None if raw_schedule.lower() == NO_SCHEDULE else raw_schedule
    if schedule is not None and len(schedule.split()) != 5:
        raise ConfigurationError(
            f"{SCHEDULE_VARIABLE}={raw_schedule!r} must be a 5-field cron expression or 'none'."
        )
    return DagConfig(
        timezone=settings.pipeline_timezone,
        schedule=schedule,
        env=settings.env,
        max_workers=settings.max_workers,
        settle_days=settings.settle_days,
        task_timeout_s=settings.task_timeout_s,
        dagrun_timeout_s=settings.dagrun_timeout_s,
    )
