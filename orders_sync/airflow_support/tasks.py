"""The bodies of the DAG's tasks: the profiler's library calls, wired for Airflow.

``dags/orders_sync_run_profiler.py`` only declares the tasks; each one calls a function
here, which calls exactly what the command line calls
(:mod:`orders_sync.run_profiler.service`):

``start`` → ``plan`` → ``sync_store`` × job (mapped, pool ``orders_sync``) → ``finish``
(``all_done``) → ``check``.

What passes between tasks is JSON (XCom): the start info ``{"run_id", "options"}``, the
job dicts of the plan, and per job its result under the XCom key ``job_result`` — pushed
even when the job failed, so ``finish`` knows every store's outcome and treats a job with
no result at all as crashed.
"""

from __future__ import annotations

import contextlib
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
    from orders_sync.run_profiler.service import ProfilerOptions

logger = logging.getLogger(__name__)

START_TASK = "start"
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
    """Settings from the Airflow connections over the environment, made process-wide."""
    from orders_sync.airflow_support.connections import settings_from_airflow

    settings = settings_from_airflow()
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
    from orders_sync.run_profiler.service import ProfilerOptions

    fields = set(ProfilerOptions.__dataclass_fields__)
    unknown = sorted(set(conf or {}) - fields)
    if unknown:
        raise UsageError(f"unknown conf key(s): {', '.join(unknown)}; known: {sorted(fields)}.")
    options = ProfilerOptions.from_dict({k: v for k, v in params.items() if k in fields})
    options.validate()
    return options


def start(
    params: Mapping[str, Any],
    *,
    dag_id: str,
    airflow_run_id: str,
    conf: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate the conf, check the stores, insert ``pipeline_run_summaries`` (running).

    Nothing is written when the conf is wrong or names an unknown store. A dry run writes
    nothing at all and gets ``run_id`` ``None``. The summary is owned by the DAG run
    (``airflow`` owner ``<dag_id>/<dag run id>``): a command-line run never closes it. With
    ``max_active_runs=1`` every earlier run of the DAG has ended, so a summary an earlier
    DAG run left ``running`` (its worker killed before ``finish``) is closed here, as are
    those of dead command-line runs (:func:`run_lifecycle.close_abandoned_runs`).

    Returns:
        ``{"run_id": str | None, "options": dict}`` for the next tasks.
    """
    from orders_sync import run_lifecycle
    from orders_sync.db.engine import check_connection, get_engine
    from orders_sync.db.repositories.run_summaries import AIRFLOW_OWNER
    from orders_sync.run_profiler import service

    owner = f"{dag_id}/{airflow_run_id}"
    with _usage_errors_fail_fast():
        settings = task_settings()
        options = options_from_params(params, conf)
        engine = get_engine(settings)
        check_connection(engine)
        with engine.connect() as conn:
            service.select_stores(conn, options)  # an unknown --store-code fails here
        run_id = None
        if not options.dry_run:
            run_lifecycle.close_abandoned_runs(
                engine, airflow_owner_prefix=f"{dag_id}/", current_owner=owner
            )
            run_id = service.start_run(
                engine,
                options,
                settings,
                run_id=profiler_run_id(airflow_run_id),
                owner_kind=AIRFLOW_OWNER,
                owner=owner,
            )
    logger.info("profiler run %s started for DAG run %s", run_id, airflow_run_id)
    return {"run_id": run_id, "options": options.to_dict()}


def plan(start_info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The jobs of this run (one per store + pipeline with windows due), as dicts.

    The plan is logged as ``--dry-run`` prints it. A dry run returns no jobs.
    """
    from orders_sync.db.engine import get_engine
    from orders_sync.run_profiler import service
    from orders_sync.run_profiler.planning import describe_plan

    with _usage_errors_fail_fast():
        settings = task_settings()
        options = service.ProfilerOptions.from_dict(start_info["options"])
        jobs = service.plan_run(get_engine(settings), options, settings)
    logger.info(
        "plan for today %s (%s):\n%s",
        settings.today(),
        settings.pipeline_timezone,
        describe_plan(jobs),
    )
    if options.dry_run:
        return []
    return [service.job_to_dict(job) for job in jobs]


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
    from orders_sync.db.engine import get_engine
    from orders_sync.run_profiler import service

    settings = task_settings()
    options = service.ProfilerOptions.from_dict(start_info["options"])
    run_id = str(start_info["run_id"])
    engine = get_engine(settings)
    planned = service.job_from_dict(job)

    with _stop_on_sigterm() as stop, run_slot(engine, run_id, options.max_workers):
        result = service.run_job(
            engine,
            planned,
            run_id=run_id,
            options=options,
            settings=settings,
            stop_event=stop,
        )
    payload = service.job_result_to_dict(result)
    ti.xcom_push(key=JOB_RESULT_KEY, value=payload)
    if result.skipped:
        logger.warning("%s %s skipped: another run holds the store's lock", *_job_name(job))
    elif result.status != "success":
        raise _fail(
            f"{planned.store_code} {planned.pipeline.code}: {result.status} "
            f"({len(result.windows)} window(s) ran, {result.not_run} not run)"
        )


def finish(ti: TaskInstanceLike) -> dict[str, Any]:
    """Write the run's summary from ``orders_sync_log`` (runs whatever happened upstream).

    Jobs of the plan with no pushed result (a worker killed, a task that crashed before
    running) count as crashed; a failed plan counts as one crashed job — either makes
    the run failed.

    Returns:
        ``{"run_id", "overall_status", "summary_text", "problems"}`` for ``check``;
        ``run_id`` is ``None`` for a dry run (success) or a run that never started (failed).
    """
    from orders_sync.db.engine import get_engine
    from orders_sync.run_profiler import service

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
    jobs: list[Mapping[str, Any]] | None = ti.xcom_pull(task_ids=PLAN_TASK)
    results: list[Mapping[str, Any]] = list(
        ti.xcom_pull(task_ids=SYNC_STORE_TASK, key=JOB_RESULT_KEY) or []
    )
    reported = {_job_name(result) for result in results}
    problems = []
    if jobs is None:
        problems.append("the plan task failed")
    missing = sorted({_job_name(job) for job in jobs or []} - reported)
    problems += [f"{store} {pipeline}: crashed (no result)" for store, pipeline in missing]
    problems += [
        f"{r['store_code']} {r['pipeline']}: crashed: {r['crashed']}"
        for r in results
        if r["crashed"]
    ]
    problems += [
        f"{r['store_code']} {r['pipeline']}: {r['status']}"
        for r in results
        if not r["crashed"] and r["status"] in ("failed", "partial")
    ]
    settings = task_settings()
    outcome = service.finish_run(
        get_engine(settings),
        run_id,
        skipped_stores=sum(1 for r in results if r["skipped"]),
        crashed_jobs=len(missing) + (jobs is None) + sum(1 for r in results if r["crashed"]),
        unlogged_failures=sum(int(r.get("unlogged_failures", 0)) for r in results),
        settings=settings,
    )
    logger.info("run %s: %s — %s", run_id, outcome.overall_status, outcome.summary_text)
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
