"""The bodies of the DAG's tasks: the profiler's library calls, wired for Airflow.

``dags/orders_sync_run_profiler.py`` only declares the tasks; each one calls a function
here, which calls exactly what the command line calls
(:mod:`orders_sync.run_profiler.service`):

``start`` (:func:`lifecycle.open_run <orders_sync.runs.lifecycle.open_run>`) → ``plan``
→ ``sync_store`` × job (mapped, pool ``orders_sync``; :func:`lifecycle.run_job
<orders_sync.runs.lifecycle.run_job>`) → ``finish`` (``all_done``; :func:`lifecycle.close_run
<orders_sync.runs.lifecycle.close_run>`) → ``check``.

What passes between tasks is JSON (XCom, :mod:`orders_sync.airflow_support.xcom`): the start
info ``{"run_id", "options", "today"}`` — the run's today is decided once, by ``start`` — the
job dicts of the plan, and per job its result under the XCom key ``job_result``, pushed even
when the job failed. ``finish`` rebuilds typed results from them, counts a job with no result
as crashed, and closes the run exactly as the command line does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import signal
import threading
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from orders_sync.config import Settings, override_settings
from orders_sync.exceptions import ConfigurationError, DatabaseUnavailableError, UsageError

if TYPE_CHECKING:
    from orders_sync.run_profiler.options import ProfilerOptions
    from orders_sync.runs.results import JobResult

logger = logging.getLogger(__name__)

START_TASK = "start"
FINISH_TASK = "finish"
PLAN_TASK = "plan"
SYNC_STORE_TASK = "sync_store"
JOB_RESULT_KEY = "job_result"
_RUN_ID_PREFIX = "af-"


class TaskInstanceLike(Protocol):
    """The XCom calls of Airflow's runtime task instance used here."""

    def xcom_push(self, key: str, value: Any) -> None: ...

    def xcom_pull(self, task_ids: str, key: str = ...) -> Any: ...


def _fail(message: str) -> Exception:
    """Airflow's no-retry failure (a wrong conf or a failed store does not heal by retrying)."""
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(message)


@contextlib.contextmanager
def _usage_errors_fail_fast() -> Iterator[None]:
    """Usage and configuration errors fail the task at once; an unreachable DB is retried."""
    try:
        yield
    except DatabaseUnavailableError:
        raise
    except (UsageError, ConfigurationError) as exc:
        raise _fail(f"{type(exc).__name__}: {exc}") from exc


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


def start(
    params: Mapping[str, Any],
    *,
    dag_id: str,
    airflow_run_id: str,
    conf: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate the conf, check the stores and sources, open the run (summary ``running``).

    Nothing is written when the conf is wrong, names an unknown store, or a selected store's
    CRM is not configured. A dry run writes nothing at all and gets ``run_id`` ``None``. The
    summary is owned by the DAG run (``airflow`` owner ``<dag_id>/<dag run id>``): a
    command-line run never closes it. With ``max_active_runs=1`` every earlier run of the DAG
    has ended, so a summary an earlier DAG run left ``running`` (its worker killed before
    ``finish``) is closed here, as are those of dead command-line runs.

    Returns:
        ``{"run_id": str | None, "options": dict, "today": "YYYY-MM-DD"}`` for the next tasks.
    """
    from orders_sync.db.engine import check_connection, get_engine
    from orders_sync.db.repositories.run_summaries import AIRFLOW_OWNER
    from orders_sync.domain import RUN_PROFILER
    from orders_sync.run_profiler.load_plan import check_run, select_stores
    from orders_sync.runs import lifecycle

    owner = f"{dag_id}/{airflow_run_id}"
    with _usage_errors_fail_fast():
        settings = task_settings()
        options = options_from_params(params, conf)
        today = settings.today()
        engine = get_engine(settings)
        check_connection(engine)
        run_id = None
        with engine.connect() as conn:
            if options.dry_run:
                select_stores(conn, options)  # an unknown --store-code fails here
            else:
                check_run(conn, options, settings)
        if not options.dry_run:
            run_id = profiler_run_id(airflow_run_id)
            lifecycle.open_run(
                engine,
                run_id=run_id,
                pipeline_name=RUN_PROFILER,
                run_env=options.env,
                report_date=today,
                owner_kind=AIRFLOW_OWNER,
                owner=owner,
                airflow_owner_prefix=f"{dag_id}/",
            )
    logger.info("profiler run %s started for DAG run %s", run_id, airflow_run_id)
    return {"run_id": run_id, "options": options.to_dict(), "today": today.isoformat()}


def _start_today(start_info: Mapping[str, Any], settings: Settings) -> dt.date:
    """The run's today as ``start`` decided it (a start info of an older version: now)."""
    raw = start_info.get("today")
    return dt.date.fromisoformat(raw) if raw else settings.today()


def plan(start_info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The jobs of this run (one per store + pipeline with windows due), as dicts.

    Planned for the run's today (decided by ``start``), so a run that crosses midnight
    between its tasks still plans the day its summary reports. The plan is logged as
    ``--dry-run`` prints it. A dry run returns no jobs.
    """
    from orders_sync.airflow_support.xcom import job_to_dict
    from orders_sync.db.engine import get_engine
    from orders_sync.run_profiler.load_plan import plan_run
    from orders_sync.run_profiler.options import ProfilerOptions
    from orders_sync.run_profiler.planning import describe_plan

    with _usage_errors_fail_fast():
        settings = task_settings()
        options = ProfilerOptions.from_dict(start_info["options"])
        today = _start_today(start_info, settings)
        jobs = plan_run(get_engine(settings), options, settings, today=today)
    logger.info(
        "plan for today %s (%s):\n%s", today, settings.pipeline_timezone, describe_plan(jobs)
    )
    if options.dry_run:
        return []
    return [job_to_dict(job) for job in jobs]


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    """An event set on SIGTERM (a killed task): no new window starts after it.

    Airflow's own SIGTERM handler still runs afterwards.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.getsignal(signal.SIGTERM)

    def handle(signum: int, frame: Any) -> None:
        stop.set()
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, handle)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _job_name(job: Mapping[str, Any]) -> tuple[str, str]:
    return str(job["store_code"]), str(job["pipeline"])


def sync_store(job: Mapping[str, Any], start_info: Mapping[str, Any], ti: TaskInstanceLike) -> None:
    """Run one store + pipeline's windows in order, under its advisory lock and a run slot.

    The result is pushed under the XCom key ``job_result`` before the verdict, so ``finish``
    sees failed stores too. A failed or partial window fails the task (no retry: the
    requirement allows no retry loop within a run — the next run re-plans the window).
    A store locked by another run is skipped: the task succeeds and says so.
    """
    from orders_sync.airflow_support.run_slots import run_slot
    from orders_sync.airflow_support.xcom import job_from_dict, job_result_to_dict
    from orders_sync.db.engine import get_engine
    from orders_sync.run_profiler.execution import run_job
    from orders_sync.run_profiler.options import ProfilerOptions
    from orders_sync.run_profiler.progress import ProgressMeter

    settings = task_settings()
    options = ProfilerOptions.from_dict(start_info["options"])
    run_id = str(start_info["run_id"])
    engine = get_engine(settings)
    planned = job_from_dict(job)

    with (
        _stop_on_sigterm() as stop,
        run_slot(engine, run_id, options.max_workers),
        ProgressMeter(len(planned.windows), settings.progress_interval_s, run_id) as meter,
    ):
        result = run_job(
            engine,
            planned,
            run_id=run_id,
            options=options,
            settings=settings,
            stop_event=stop,
            on_window=meter.on_window,
        )
    ti.xcom_push(key=JOB_RESULT_KEY, value=job_result_to_dict(result))
    if result.skipped:
        logger.warning("%s %s skipped: another run holds the store's lock", *_job_name(job))
    elif result.status != "success":
        raise _fail(
            f"{planned.store_code} {planned.pipeline.code}: {result.status} "
            f"({len(result.windows)} window(s) ran, {result.not_run} not run)"
        )


def _collect_results(ti: TaskInstanceLike) -> tuple[list[JobResult], list[str]]:
    """Every job's typed result, and the problems to report; a job with none crashed."""
    from orders_sync.airflow_support.xcom import job_result_from_dict
    from orders_sync.runs.results import JobResult

    jobs: list[Mapping[str, Any]] | None = ti.xcom_pull(task_ids=PLAN_TASK)
    results = [
        job_result_from_dict(r)
        for r in ti.xcom_pull(task_ids=SYNC_STORE_TASK, key=JOB_RESULT_KEY) or []
    ]
    problems = [
        f"{r.store_code} {r.pipeline}: crashed: {r.crashed}"
        if r.crashed
        else f"{r.store_code} {r.pipeline}: {r.status}"
        for r in results
        if r.crashed or r.status in ("failed", "partial")
    ]
    if jobs is None:
        problems.insert(0, "the plan task failed")
        results.append(JobResult("(plan)", "plan", crashed="the plan task failed"))
    reported = {(r.store_code, r.pipeline) for r in results}
    for store, pipeline in sorted({_job_name(job) for job in jobs or []} - reported):
        problems.append(f"{store} {pipeline}: crashed (no result)")
        results.append(JobResult(store, pipeline, crashed="its task ended without a result"))
    return results, problems


def finish(ti: TaskInstanceLike, outlet_events: Any = None) -> dict[str, Any]:
    """Close the run from ``orders_sync_log`` and the jobs' results (whatever happened upstream).

    The same :func:`lifecycle.close_run <orders_sync.runs.lifecycle.close_run>` as the command
    line: jobs of the plan with no pushed result (a worker killed, a task that crashed before
    running) count as crashed; a failed plan counts as one crashed job — either makes the run
    failed.

    Returns:
        ``{"run_id", "overall_status", "summary_text", "problems"}`` for ``check``;
        ``run_id`` is ``None`` for a dry run (success) or a run that never started (failed).

    With ``outlet_events`` (Airflow's), one asset event per data table the run changed
    (:mod:`orders_sync.airflow_support.assets`).
    """
    from orders_sync.airflow_support.assets import changes_of_run, emit_asset_events
    from orders_sync.db.engine import get_engine
    from orders_sync.db.repositories import run_summaries
    from orders_sync.run_profiler.execution import ProfilerCounters
    from orders_sync.run_profiler.options import ProfilerOptions
    from orders_sync.runs import lifecycle

    start_info = ti.xcom_pull(task_ids=START_TASK)
    if not start_info:
        return {
            "run_id": None,
            "overall_status": "failed",
            "summary_text": "the run did not start",
            "problems": ["the start task failed"],
        }
    if start_info["run_id"] is None:
        return {
            "run_id": None,
            "overall_status": "success",
            "summary_text": "dry run: nothing written",
            "problems": [],
        }
    run_id = str(start_info["run_id"])
    results, problems = _collect_results(ti)
    settings = task_settings()
    options = ProfilerOptions.from_dict(start_info["options"])
    counters = ProfilerCounters(run_id, options, _start_today(start_info, settings))
    engine = get_engine(settings)
    outcome = lifecycle.close_run(engine, run_id, results, more=counters)
    if outlet_events is not None:
        with engine.connect() as conn:
            run = run_summaries.get_run(conn, run_id)
            changes = changes_of_run(conn, run_id, run.started_at) if run else []
        emit_asset_events(outlet_events, changes, run_id)
        logger.info("asset events: %s", ", ".join(c.table for c in changes) or "none")
    return {
        "run_id": run_id,
        "overall_status": outcome.overall_status,
        "summary_text": outcome.summary_text,
        "problems": problems,
    }


def check(summary: Mapping[str, Any]) -> None:
    """Fail the DAG run unless every window succeeded (a green run with red stores lies)."""
    if summary["overall_status"] == "success" and not summary["problems"]:
        logger.info("run %s: success — %s", summary["run_id"], summary["summary_text"])
        return
    raise _fail(
        f"run {summary['run_id']}: {summary['overall_status']} — {summary['summary_text']}"
        + (f"; {'; '.join(summary['problems'])}" if summary["problems"] else "")
    )


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
        if not settings.alert_webhook_url and not settings.alert_email_to:
            return None
        summary = ti.xcom_pull(task_ids=FINISH_TASK) or {}
        start_info = ti.xcom_pull(task_ids=START_TASK)
        run_id = summary.get("run_id")
        if run_id is None:
            if summary.get("overall_status") == "success":
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
                today=_start_today(start_info, settings),
                sync_group=options.sync_group,
                store_code=options.store_code,
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
