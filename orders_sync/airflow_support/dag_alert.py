"""The DAG run's failure alert, built after ``finish`` made the summary final (called by
:class:`~orders_sync.airflow_support.notifier.OrdersSyncAlertNotifier`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from orders_sync.airflow_support.task_context import (
    FINISH_TASK,
    START_TASK,
    TaskInstanceLike,
    start_today,
)
from orders_sync.runs.summary import run_succeeded

logger = logging.getLogger(__name__)


def send_dag_run_alert(ti: TaskInstanceLike, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The DAG run's alert (see :mod:`orders_sync.airflow_support.notifier`); never raises.

    Returns:
        The payload sent, or ``None`` (a successful run, no channel configured, or an error
        that was logged).
    """
    from orders_sync.airflow_support.connections import settings_from_airflow
    from orders_sync.alerts.payload import not_started_alert
    from orders_sync.alerts.send import alert_run, send_alert
    from orders_sync.db.engine import get_engine
    from orders_sync.run_profiler.options import ProfilerOptions
    from orders_sync.status.load import read_statuses

    try:
        settings = settings_from_airflow()  # not task_settings: a run with no database alerts too
        if not settings.alerts_configured:
            return None
        summary = ti.xcom_pull(task_ids=FINISH_TASK) or {}
        start_info = ti.xcom_pull(task_ids=START_TASK)
        run_id = summary.get("run_id")
        if run_id is None:
            if run_succeeded(str(summary.get("overall_status"))):
                return None  # a dry run
            payload = not_started_alert(
                run_env=str(params.get("env") or settings.env),
                report_date=settings.today().isoformat(),
                problem="; ".join(summary.get("problems") or ["the start task failed"]),
            )
            send_alert(settings, payload)
            return payload
        options = ProfilerOptions.from_dict(start_info["options"])
        engine = get_engine(settings)
        with engine.connect() as conn:
            statuses = read_statuses(
                conn,
                today=start_today(start_info, settings),
                sync_group=options.sync_group,
                store_code=options.store_code,
                stuck_after=options.stuck_after,
            )
        return alert_run(
            engine,
            settings,
            str(run_id),
            statuses=statuses,
            max_days_behind=options.max_days_behind,
        )
    except Exception as exc:  # an alert must never hide the failure it reports
        logger.warning("orders_sync alert failed: %s: %s", type(exc).__name__, exc)
        return None
