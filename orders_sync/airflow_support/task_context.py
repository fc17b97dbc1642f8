"""What every task body of the DAG shares: the task ids and XCom keys, the settings of a
task, the run's options and today from ``start``, and Airflow's no-retry failure.

Airflow is imported inside functions only: the DAG file imports this package at parse time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from orders_sync.config import Settings, override_settings
from orders_sync.exceptions import ConfigurationError, DatabaseUnavailableError, UsageError

if TYPE_CHECKING:
    from orders_sync.run_profiler.options import ProfilerOptions

START_TASK = "start"
FINISH_TASK = "finish"
PLAN_TASK = "plan"
SYNC_STORE_TASK = "sync_store"
JOB_RESULTS_KEY = "job_results"
START_PROBLEM_KEY = "start_problem"
"""Why ``start`` refused the run (one sentence), for ``finish`` and the alert."""
_RUN_ID_PREFIX = "af-"


class TaskInstanceLike(Protocol):
    """The XCom calls of Airflow's runtime task instance used here."""

    def xcom_push(self, key: str, value: Any) -> None: ...

    def xcom_pull(self, task_ids: str, key: str = ...) -> Any: ...


def fail_task(message: str) -> Exception:
    """Airflow's no-retry failure (a wrong conf or a failed store does not heal by retrying)."""
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(message)


@contextlib.contextmanager
def usage_errors_fail_fast(ti: TaskInstanceLike | None = None) -> Iterator[None]:
    """Usage and configuration errors fail the task at once (their sentence kept under
    :data:`START_PROBLEM_KEY` when ``ti`` is given); an unreachable DB is retried."""
    try:
        yield
    except DatabaseUnavailableError:
        raise
    except (UsageError, ConfigurationError) as exc:
        if ti is not None:
            ti.xcom_push(key=START_PROBLEM_KEY, value=" ".join(str(exc).split()))
        raise fail_task(f"{type(exc).__name__}: {exc}") from exc


def task_settings() -> Settings:
    """Settings from the Airflow connections over the environment, made process-wide.

    No fakes inside Airflow: a worker never starts an embedded PostgreSQL of its own.

    Raises:
        ConfigurationError: neither the ``orders_sync_db`` connection nor
            ``ORDERS_SYNC_DATABASE_URL`` names the orders database.
    """
    from orders_sync.airflow_support.connections import settings_from_airflow

    settings = settings_from_airflow()
    if settings.database_url is None:
        raise ConfigurationError(
            "no orders database for this Airflow task: create the Airflow connection "
            "'orders_sync_db' or set ORDERS_SYNC_DATABASE_URL on the workers."
        )
    override_settings(settings)
    return settings


def profiler_run_id(airflow_run_id: str) -> str:
    """The profiler's ``run_id`` for a DAG run: traceable to it, unique per try (≤ 64 chars)."""
    readable = re.sub(r"[^A-Za-z0-9_.:+-]", "_", airflow_run_id)[:48]
    return f"{_RUN_ID_PREFIX}{readable}-{uuid.uuid4().hex[:12]}"


def options_from_params(
    params: Mapping[str, Any], conf: Mapping[str, Any] | None = None
) -> ProfilerOptions:
    """:class:`ProfilerOptions` from the run's params; conf keys that are no option are refused.

    Raises:
        UsageError: an unknown conf key or a value the profiler refuses.
    """
    from orders_sync.run_profiler.options import ProfilerOptions

    fields = set(ProfilerOptions.__dataclass_fields__)
    unknown = sorted(set(conf or {}) - fields)
    if unknown:
        raise UsageError(f"unknown conf key(s): {', '.join(unknown)}; known: {sorted(fields)}.")
    return ProfilerOptions.from_dict({k: v for k, v in params.items() if k in fields})


def start_today(start_info: Mapping[str, Any], settings: Settings) -> dt.date:
    """The run's today as ``start`` decided it (a start info of an older version: now)."""
    raw = start_info.get("today")
    return dt.date.fromisoformat(raw) if raw else settings.today()


def max_map_length() -> int:
    """Airflow's ``[core] max_map_length`` (read at run time, in the task)."""
    from airflow.configuration import conf

    return conf.getint("core", "max_map_length", fallback=1024)
