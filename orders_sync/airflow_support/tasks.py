"""The bodies of the DAG's tasks: short adapters over the library calls the command line makes.

``dags/orders_sync_run_profiler.py`` only declares the tasks; each one calls a function here:

``start`` (:func:`~orders_sync.runs.lifecycle.open_run`) → ``plan``
(:func:`~orders_sync.run_profiler.load_plan.plan_run`, batched) → ``sync_store`` × batch
(mapped, pool ``orders_sync``; :func:`~orders_sync.airflow_support.batch_runner.run_batch`
over :func:`~orders_sync.runs.steps.run_job`) → ``finish`` (``all_done``;
:func:`~orders_sync.runs.lifecycle.close_run`) → ``check`` (the one verdict,
:func:`~orders_sync.runs.summary.run_succeeded`).

What passes between tasks is JSON (XCom, :mod:`orders_sync.airflow_support.xcom`): the start
info ``{"run_id", "options", "today"}`` — the run's today is decided once, by ``start`` — one
small reference per batch (the plans themselves are in ``orders_sync_run_batches``), and per
batch its jobs' results under the XCom key ``job_results``, pushed even when a job failed.
``finish`` rebuilds typed results from them, counts a planned job with no result as crashed
(:func:`~orders_sync.runs.results.account_for_plan`), and closes the run exactly as the
command line does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from orders_sync.airflow_support.task_context import (
    JOB_RESULTS_KEY,
    PLAN_TASK,
    START_PROBLEM_KEY,
    START_TASK,
    SYNC_STORE_TASK,
    TaskInstanceLike,
    fail_task,
    max_map_length,
    options_from_params,
    profiler_run_id,
    start_today,
    task_settings,
    usage_errors_fail_fast,
)
from orders_sync.domain import Status
from orders_sync.exceptions import ConfigurationError
from orders_sync.runs.summary import run_succeeded

logger = logging.getLogger(__name__)

PLAN_LOG_JOBS = 200
"""Plans of at most this many jobs are logged in full by the plan task."""


def start(
    params: Mapping[str, Any],
    *,
    dag_id: str,
    airflow_run_id: str,
    conf: Mapping[str, Any] | None = None,
    ti: TaskInstanceLike | None = None,
) -> dict[str, Any]:
    """Validate the conf, run the preflight, open the run (summary ``running``).

    The preflight's checks (:mod:`orders_sync.check.preflight`; the sources' without a
    request) come first: a schema behind this version's head, a missing privilege, no store
    to sync or an unconfigured source fails the run at once, without retries, with the
    check's sentence — which ``ti`` (when given) keeps under the XCom key ``start_problem`` for
    the run's alert.

    Nothing is written when the conf is wrong, names an unknown store, or a selected store's
    CRM is not configured. A dry run writes nothing at all and gets ``run_id`` ``None``. The
    summary is owned by the DAG run (``airflow`` owner ``<dag_id>/<dag run id>``): a
    command-line run never closes it. With ``max_active_runs=1`` every earlier run of the DAG
    has ended, so a summary an earlier DAG run left ``running`` (its worker killed before
    ``finish``) is closed here, as are those of dead command-line runs.

    Returns:
        ``{"run_id": str | None, "options": dict, "today": "YYYY-MM-DD"}`` for the next tasks.
    """
    from orders_sync.check.preflight import run_checks
    from orders_sync.db.engine import check_connection, get_engine
    from orders_sync.db.repositories.run_summaries import AIRFLOW_OWNER
    from orders_sync.domain import RUN_PROFILER
    from orders_sync.run_profiler.load_plan import check_run, select_stores
    from orders_sync.runs import lifecycle

    owner = f"{dag_id}/{airflow_run_id}"
    with usage_errors_fail_fast(ti):
        settings = task_settings()
        options = options_from_params(params, conf)
        today = settings.today()
        engine = get_engine(settings)
        check_connection(engine)
        failed = [c for c in run_checks(engine, settings, offline=True) if c.status == "fail"]
        if failed:
            raise ConfigurationError("; ".join(f"preflight {c.name}: {c.detail}" for c in failed))
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
    budget = options.time_budget_s
    return {
        "run_id": run_id,
        "options": options.to_dict(),
        "today": today.isoformat(),
        "budget_ends": time.time() + budget if budget is not None else None,
    }


def plan(start_info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Plan the run and store it in batches; return one small reference per batch.

    Planned for the run's today (decided by ``start``), so a run that crosses midnight
    between its tasks still plans the day its summary reports. The jobs (one per store +
    pipeline with windows due) are dealt into batches (:mod:`.batching`) never more than the
    cap below ``max_map_length``, stored in ``orders_sync_run_batches`` keyed by the run; the
    mapped ``sync_store`` gets ``{"batch", "label", "plans", "days"}`` — a few bytes whatever
    the number of stores. The plan is logged as ``--dry-run`` prints it. A dry run returns
    no batch.
    """
    from orders_sync.airflow_support.batching import batch_label, mapped_task_cap, plan_batches
    from orders_sync.airflow_support.xcom import job_to_dict
    from orders_sync.db.engine import get_engine
    from orders_sync.db.repositories import run_batches
    from orders_sync.run_profiler.load_plan import plan_run
    from orders_sync.run_profiler.options import ProfilerOptions
    from orders_sync.run_profiler.planning import describe_plan

    with usage_errors_fail_fast():
        settings = task_settings()
        options = ProfilerOptions.from_dict(start_info["options"])
        today = start_today(start_info, settings)
        engine = get_engine(settings)
        jobs = plan_run(engine, options, settings, today=today)
    if len(jobs) <= PLAN_LOG_JOBS:
        logger.info(
            "plan for today %s (%s):\n%s", today, settings.pipeline_timezone, describe_plan(jobs)
        )
    if options.dry_run:
        if len(jobs) > PLAN_LOG_JOBS:
            logger.info("plan for today %s:\n%s", today, describe_plan(jobs))
        return []
    cap = mapped_task_cap(settings.max_mapped_tasks, max_map_length())
    batches = plan_batches(jobs, max_workers=options.max_workers, cap=cap)
    with engine.begin() as conn:
        run_batches.save_batches(
            conn,
            str(start_info["run_id"]),
            [(batch_label(batch), [job_to_dict(job) for job in batch]) for batch in batches],
        )
    logger.info(
        "%d job(s), %d window(s) in %d batch(es) (cap %d)",
        len(jobs),
        sum(len(job.windows) for job in jobs),
        len(batches),
        cap,
    )
    return [
        {
            "batch": index,
            "label": batch_label(batch),
            "plans": len(batch),
            "days": sum(job.days for job in batch),
        }
        for index, batch in enumerate(batches)
    ]


def sync_store(
    batch: Mapping[str, Any], start_info: Mapping[str, Any], ti: TaskInstanceLike
) -> None:
    """Run one batch of store + pipeline plans, one after the other, in one run slot.

    Each plan keeps the design card's rules: its windows in order under its store's advisory
    lock, stopping at its first failed or partial window — and one failing store never stops
    the other stores of the batch. The batch has a deadline grown from its planned work
    (:mod:`.deadline`): past it, the window in flight is closed ``interrupted`` and the
    batch's other plans do not start (the next run plans them again). Every plan's result is
    pushed under the XCom key ``job_results`` before the verdict, so ``finish`` sees failed
    stores too. A failed or partial window fails the task (no retry: the requirement allows
    no retry loop within a run). A store locked by another run is skipped and said so.
    """
    from orders_sync.airflow_support.batch_runner import run_batch
    from orders_sync.airflow_support.xcom import job_from_dict, job_result_to_dict
    from orders_sync.db.engine import get_engine
    from orders_sync.db.repositories import run_batches
    from orders_sync.run_profiler.options import ProfilerOptions

    settings = task_settings()
    options = ProfilerOptions.from_dict(start_info["options"])
    run_id = str(start_info["run_id"])
    engine = get_engine(settings)
    with engine.connect() as conn:
        jobs = [job_from_dict(j) for j in run_batches.load_batch(conn, run_id, int(batch["batch"]))]
    results = run_batch(
        engine,
        jobs,
        label=str(batch["label"]),
        run_id=run_id,
        options=options,
        budget_ends=start_info.get("budget_ends"),
    )
    ti.xcom_push(key=JOB_RESULTS_KEY, value=[job_result_to_dict(r) for r in results])
    skipped = [f"{r.store_code} {r.pipeline}" for r in results if r.skipped]
    if skipped:
        logger.warning("skipped (another run holds the store's lock): %s", ", ".join(skipped))
    bad = [f"{r.store_code} {r.pipeline}: {r.status}" for r in results if r.status.is_bad]
    if bad:
        raise fail_task(f"batch {batch['label']}: {len(bad)} of {len(results)} plan(s) failed: "
                    + "; ".join(bad[:20]) + (" ..." if len(bad) > 20 else ""))  # fmt: skip


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
    from orders_sync.airflow_support.xcom import job_result_from_dict
    from orders_sync.db.engine import get_engine
    from orders_sync.db.repositories import run_batches, run_summaries
    from orders_sync.run_profiler.execution import ProfilerCounters
    from orders_sync.run_profiler.options import ProfilerOptions
    from orders_sync.runs import lifecycle
    from orders_sync.runs.results import account_for_plan

    start_info = ti.xcom_pull(task_ids=START_TASK)
    if not start_info:
        problem = ti.xcom_pull(task_ids=START_TASK, key=START_PROBLEM_KEY)
        return {
            "run_id": None,
            "overall_status": Status.FAILED.value,
            "summary_text": "the run did not start",
            "problems": [problem or "the start task failed"],
        }
    if start_info["run_id"] is None:
        return {
            "run_id": None,
            "overall_status": Status.SUCCESS.value,
            "summary_text": "dry run: nothing written",
            "problems": [],
        }
    run_id = str(start_info["run_id"])
    settings = task_settings()
    engine = get_engine(settings)
    plan_done = ti.xcom_pull(task_ids=PLAN_TASK) is not None
    with engine.connect() as conn:
        planned = run_batches.planned_jobs(conn, run_id)
    if planned is None and plan_done:
        planned = []  # an empty plan stores no batch
    pushed = ti.xcom_pull(task_ids=SYNC_STORE_TASK, key=JOB_RESULTS_KEY) or []
    if pushed and isinstance(pushed[0], dict):  # a single mapped instance's list
        pushed = [pushed]
    results, problems = account_for_plan(
        [job_result_from_dict(r) for batch in pushed if batch for r in batch],
        planned if plan_done else None,
    )
    options = ProfilerOptions.from_dict(start_info["options"])
    counters = ProfilerCounters(run_id, options, start_today(start_info, settings))
    outcome = lifecycle.close_run(engine, run_id, results, more=counters)
    with engine.begin() as conn:
        run_batches.prune_batches(conn)  # this run's plan stays: the page links its tasks
    if outlet_events is not None:
        with engine.connect() as conn:
            run = run_summaries.get_run(conn, run_id)
            changes = changes_of_run(conn, run_id, run.started_at) if run else []
        emit_asset_events(outlet_events, changes, run_id)
        logger.info("asset events: %s", ", ".join(c.table for c in changes) or "none")
    return {
        "run_id": run_id,
        "overall_status": str(outcome.overall_status),
        "summary_text": outcome.summary_text,
        "problems": problems,
    }


def check(summary: Mapping[str, Any]) -> None:
    """Fail the DAG run unless every window succeeded (a green run with red stores lies)."""
    if run_succeeded(summary["overall_status"]) and not summary["problems"]:
        logger.info("run %s: success — %s", summary["run_id"], summary["summary_text"])
        return
    raise fail_task(
        f"run {summary['run_id']}: {summary['overall_status']} — {summary['summary_text']}"
        + (f"; {'; '.join(summary['problems'])}" if summary["problems"] else "")
    )
