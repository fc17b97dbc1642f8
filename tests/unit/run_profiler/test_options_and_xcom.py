"""The profiler's options (validated at construction), job results and their XCom form."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from orders_sync.airflow_support.xcom import (
    job_from_dict,
    job_result_from_dict,
    job_result_to_dict,
    job_to_dict,
)
from orders_sync.domain import Job, PipelineRef, PlannedWindow, WindowReason
from orders_sync.exceptions import UsageError
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.runs.results import JobResult, WindowReport

BAD_OPTIONS = {
    "window-days-0": ({"window_days": 0}, "--window-days"),
    "window-days-negative": ({"window_days": -5}, "--window-days"),
    "window-days-bool": ({"window_days": True}, "--window-days"),
    "window-days-float": ({"window_days": 7.5}, "--window-days"),
    "overlap-days-negative": ({"overlap_days": -1}, "--overlap-days"),
    "overlap-days-text": ({"overlap_days": "1"}, "--overlap-days"),
    "max-workers-0": ({"max_workers": 0}, "--max-workers"),
    "max-workers-bool": ({"max_workers": True}, "--max-workers"),
    "settle-days-negative": ({"settle_days": -1}, "--settle-days"),
    "sync-group-XX": ({"sync_group": "XX"}, "--sync-group"),
    "sync-group-lowercase": ({"sync_group": "td"}, "--sync-group"),
    "store-code-empty": ({"store_code": ""}, "--store-code"),
    "store-code-too-long": ({"store_code": "A" * 9}, "--store-code"),
    "env-empty": ({"env": ""}, "--env"),
    "env-too-long": ({"env": "e" * 33}, "--env"),
    "force-not-bool": ({"force": "yes"}, "--force"),
}


@pytest.mark.parametrize(("changes", "flag"), BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_construction_rejects_with_one_sentence_naming_the_flag(
    changes: dict[str, object], flag: str
) -> None:
    with pytest.raises(UsageError) as caught:
        ProfilerOptions(**{"env": "test", **changes})  # type: ignore[arg-type]

    message = str(caught.value)
    assert flag in message
    assert "\n" not in message


GOOD_OPTIONS = {
    "defaults": {},
    "window-days-1": {"window_days": 1},
    "overlap-days-0": {"overlap_days": 0},
    "overlap-wider-than-window": {"overlap_days": 30, "window_days": 7},
    "max-workers-1": {"max_workers": 1},
    "every-flag": {
        "sync_group": "UC",
        "window_days": 30,
        "overlap_days": 2,
        "max_workers": 8,
        "force": True,
        "store_code": "UC104",
        "settle_days": 10,
        "dry_run": True,
    },
}


@pytest.mark.parametrize("changes", GOOD_OPTIONS.values(), ids=GOOD_OPTIONS.keys())
def test_construction_accepts(changes: dict[str, object]) -> None:
    options = ProfilerOptions(**{"env": "test", **changes})  # type: ignore[arg-type]
    assert options.to_dict() == {**ProfilerOptions(env="test").to_dict(), **changes}


def test_defaults_are_the_requirements() -> None:
    options = ProfilerOptions(env="dev")

    assert (options.sync_group, options.window_days, options.overlap_days) == ("ALL", 90, 1)
    assert options.max_workers in (2, 3)
    assert (options.force, options.store_code) == (False, None)


def test_options_round_trip_through_a_dict() -> None:
    options = ProfilerOptions(env="prod", sync_group="TD", window_days=30, force=True)

    assert ProfilerOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options


def test_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(UsageError, match="backfill"):
        ProfilerOptions.from_dict({"env": "dev", "backfill": True})


JOB = Job(
    store_code="A001",
    cost_center=None,
    pipeline=PipelineRef(code="td_orders_sync", id=7),
    windows=(
        PlannedWindow(dt.date(2026, 1, 1), dt.date(2026, 1, 7), (WindowReason.HOLE,)),
        PlannedWindow(
            dt.date(2026, 1, 19), dt.date(2026, 1, 20), (WindowReason.MISSING, WindowReason.OVERLAP)
        ),
    ),
)


def test_job_round_trips_through_json() -> None:
    assert job_from_dict(json.loads(json.dumps(job_to_dict(JOB)))) == JOB


def _report(status: str) -> WindowReport:
    return WindowReport(
        store_code="A001",
        pipeline="td_orders_sync",
        from_date=dt.date(2026, 1, 1),
        to_date=dt.date(2026, 1, 7),
        status=status,
        rows_fetched=3,
        duration_s=0.25,
        error_message=None if status == "success" else "orders: boom",
        reasons=("missing",),
    )


JOB_STATUSES = {
    "skipped": (JobResult("A001", "td_orders_sync", skipped=True), "skipped"),
    "crashed": (JobResult("A001", "td_orders_sync", crashed="OperationalError: gone"), "failed"),
    "nothing-ran": (JobResult("A001", "td_orders_sync"), "success"),
    "all-success": (
        JobResult("A001", "td_orders_sync", windows=(_report("success"), _report("success"))),
        "success",
    ),
    "ends-partial": (
        JobResult("A001", "td_orders_sync", windows=(_report("success"), _report("partial"))),
        "partial",
    ),
    "ends-failed": (
        JobResult("A001", "td_orders_sync", windows=(_report("success"), _report("failed"))),
        "failed",
    ),
}


@pytest.mark.parametrize(("result", "status"), JOB_STATUSES.values(), ids=JOB_STATUSES.keys())
def test_job_status(result: JobResult, status: str) -> None:
    assert result.status == status
    assert job_result_to_dict(result)["status"] == status
    rebuilt = job_result_from_dict(json.loads(json.dumps(job_result_to_dict(result))))
    assert rebuilt == result
    assert rebuilt.status == status
