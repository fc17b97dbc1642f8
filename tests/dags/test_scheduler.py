"""A real scheduler: LocalExecutor, metadata on the embedded PostgreSQL, the api-server as
execution API, runs triggered with conf through the REST API.

- every planned store + pipeline becomes a mapped ``sync_store`` that runs;
- measured concurrency never exceeds the pool's slots nor the run's ``max_workers``, and
  reaches them when there is enough work;
- one failing store: the summary row is still written (``all_done``) and the run is failed;
- a CLI run and a DAG run at once on the same stores: each store single-flight, both
  summaries right;
- a bad conf is refused by Airflow before a run exists.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from collections import Counter, defaultdict
from typing import Any

import httpx
import pendulum
import pytest
import sqlalchemy as sa

from orders_sync_devtools.airflow_api import AirflowApiError
from orders_sync_devtools.airflow_stack import LOCAL_TD_TOKEN, LOCAL_UC_TOKEN
from tests.dags.conftest import (
    DAG_ID,
    REPO,
    STACK_MAX_MAPPED_TASKS,
    STACK_POOL_SLOTS,
    TIMEZONE,
    RunningStack,
    clean_env,
    max_concurrency,
    profiler_run_ids,
    seed_stores,
    summary_row,
)

pytestmark = pytest.mark.slow

# Eight stores, a year or so each: enough work that every worker is busy at once.
STORES = [
    ("S1", "TD", 300), ("S2", "TD", 280), ("S3", "TD", 260), ("S4", "TD", 240),
    ("S5", "TD", 220), ("S6", "UC", 300), ("S7", "UC", 260), ("S8", "UC", 220),
]  # fmt: skip
LATENCY_MS = 40


def _today() -> dt.date:
    return pendulum.today(TIMEZONE).date()


def _simulator(stack: RunningStack, path: str, body: dict[str, Any]) -> None:
    response = httpx.post(f"{stack.simulator_url}/_sim/{path}", json=body, timeout=10)
    response.raise_for_status()


@pytest.fixture
def stack(airflow_stack: RunningStack, db_url: str) -> RunningStack:
    """The session's Airflow, pointed at this test's fresh database, simulator reset."""
    airflow_stack.use_orders_database(db_url)
    _simulator(airflow_stack, "reset", {})
    _simulator(airflow_stack, "faults", {"latency_ms": LATENCY_MS})
    return airflow_stack


def _run(stack: RunningStack, conf: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    run = stack.api.trigger(DAG_ID, conf)
    finished = stack.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout_s=240)
    return finished, stack.api.task_instances(DAG_ID, run["dag_run_id"])


def _log(engine: sa.Engine, run_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(row._mapping)
            for row in conn.execute(
                sa.text(
                    """
                    SELECT l.run_id, l.store_code, p.code AS pipeline, l.from_date, l.status,
                           l.created_at, l.updated_at
                    FROM orders_sync_log l JOIN pipelines p ON p.id = l.pipeline_id
                    WHERE l.run_id = :run_id ORDER BY l.created_at
                    """
                ),
                {"run_id": run_id},
            )
        ]


def _listener_line(stack: RunningStack, dag_run_id: str, timeout_s: float = 15) -> str:
    """The line the plugin's listener wrote to the scheduler log for this DAG run."""
    deadline = time.monotonic() + timeout_s
    while True:
        log = (stack.logs_dir / "scheduler.log").read_text(errors="replace")
        lines = [line for line in log.splitlines() if f"{DAG_ID} {dag_run_id} " in line]
        if lines:
            return lines[-1]
        assert time.monotonic() < deadline, f"no listener line for {dag_run_id}"
        time.sleep(0.5)


def _store_intervals(rows: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """Per store: from its first window's start to its last window's end."""
    spans: dict[str, list[Any]] = {}
    for row in rows:
        span = spans.setdefault(row["store_code"], [row["created_at"], row["updated_at"]])
        span[0], span[1] = min(span[0], row["created_at"]), max(span[1], row["updated_at"])
    return [(start, end) for start, end in spans.values()]


def _ti_intervals(tis: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (ti["start_date"], ti["end_date"])
        for ti in tis
        if ti["task_id"] == "sync_store" and ti["start_date"] and ti["end_date"]
    ]


def _report(
    name: str, run: dict[str, Any], rows: list[dict[str, Any]], tis: list[dict[str, Any]]
) -> None:
    """Print what was measured (``pytest -s`` shows it)."""
    wall = pendulum.parse(run["end_date"]) - pendulum.parse(run["start_date"])
    print(
        f"\n[{name}] DAG run {wall.total_seconds():.1f} s, {len(rows)} windows; "
        f"stores syncing at once (orders_sync_log): {max_concurrency(_store_intervals(rows))}; "
        f"sync_store task instances running at once: {max_concurrency(_ti_intervals(tis))}"
    )


def _states(tis: list[dict[str, Any]]) -> dict[tuple[str, str | None], str]:
    return {(ti["task_id"], ti.get("rendered_map_index")): ti["state"] for ti in tis}


def _assert_summary_counts_match_log(text: str, rows: list[dict[str, Any]]) -> None:
    """The per-pipeline ``status=n`` counts of ``summary_text`` are the log's (non-zero ones)."""
    in_text = {
        (pipeline, status): int(n)
        for pipeline, fields in re.findall(r"(\w+_orders_sync): ([^;]*)", text)
        for status, n in re.findall(r"(\w+)=(\d+)", fields)
    }
    logged = Counter((row["pipeline"], row["status"]) for row in rows)
    assert {key: n for key, n in in_text.items() if n} == dict(logged), text


def test_bad_conf_is_refused_before_a_run_exists(stack: RunningStack) -> None:
    runs_before = stack.api.request("GET", f"/dags/{DAG_ID}/dagRuns")["total_entries"]
    for conf in ({"window_days": 0}, {"sync_group": "XX"}, {"max_workers": -1}):
        with pytest.raises(AirflowApiError) as refused:
            stack.api.trigger(DAG_ID, conf)
        assert refused.value.status_code in (400, 422), refused.value.body
    assert stack.api.request("GET", f"/dags/{DAG_ID}/dagRuns")["total_entries"] == runs_before


def test_mapped_tasks_honour_the_pool_and_the_runs_max_workers(
    stack: RunningStack, db_url: str, other_db_url: str
) -> None:
    today = _today()
    engine = sa.create_engine(db_url)
    try:
        # 1. max_workers 2 < pool 3: the run's slots hold it to two stores at once.
        seed_stores(engine, STORES, today)
        run, tis = _run(stack, {"max_workers": 2, "window_days": 30})
        assert run["state"] == "success"
        states = _states(tis)
        # 8 plans > max_workers: one wave of max_workers batches, each labelled with its plans
        batches = [label for (task, label) in states if task == "sync_store"]
        assert len(batches) == 2
        assert sum(int(re.search(r"\((\d+) plans\)", b).group(1)) for b in batches) == 8  # type: ignore[union-attr]
        assert set(states.values()) == {"success"}
        [run_id] = profiler_run_ids(engine)
        rows = _log(engine, run_id)
        assert {row["store_code"] for row in rows} == {code for code, _, _ in STORES}
        _report("max_workers=2", run, rows, tis)
        assert max_concurrency(_store_intervals(rows)) == 2
        assert max_concurrency(_ti_intervals(tis)) <= STACK_POOL_SLOTS
        assert summary_row(engine, run_id)["overall_status"] == "success"
        assert " success in " in _listener_line(stack, run["dag_run_id"])
    finally:
        engine.dispose()

    # 2. max_workers 8 > pool 3: the pool holds the run to three; one store fails.
    stack.use_orders_database(other_db_url)
    engine = sa.create_engine(other_db_url)
    try:
        seed_stores(engine, STORES, today)
        _simulator(
            stack,
            "faults",
            {"fail_store": {"store_code": "S3", "endpoint": "orders",
                            "from_date": (today - dt.timedelta(days=100)).isoformat()}},
        )  # fmt: skip
        run, tis = _run(stack, {"max_workers": 8, "window_days": 30})
        assert run["state"] == "failed"
        states = _states(tis)
        mapped = [state for (task, _), state in states.items() if task == "sync_store"]
        assert sorted(mapped) == ["failed"] + ["success"] * (STACK_MAX_MAPPED_TASKS - 1)
        assert states[("finish", None)] == "success"
        assert states[("check", None)] == "failed"
        [run_id] = profiler_run_ids(engine)
        rows = _log(engine, run_id)
        # S3's batch ran its other stores to the end: every other store ends in success
        assert {r["store_code"] for r in rows if r["status"] == "success"} >= {
            code for code, _, _ in STORES if code != "S3"
        }
        assert not [r for r in rows if r["store_code"] != "S3" and r["status"] != "success"]
        _report("max_workers=8", run, rows, tis)
        assert max_concurrency(_store_intervals(rows)) == STACK_POOL_SLOTS
        assert max_concurrency(_ti_intervals(tis)) <= STACK_POOL_SLOTS
        summary = summary_row(engine, run_id)
        assert summary["finished_at"] is not None
        assert summary["overall_status"] == "failed"
        assert " failed in " in _listener_line(stack, run["dag_run_id"])
        assert Counter(row["status"] for row in rows if row["store_code"] == "S3") == {
            "success": 5,  # S3 starts 260 days back: five 30-day windows end before day -100
            "failed": 1,
        }
        _assert_summary_counts_match_log(summary["summary_text"], rows)
    finally:
        engine.dispose()


def test_cli_and_dag_at_once_keep_each_store_single_flight(
    stack: RunningStack, db_url: str
) -> None:
    today = _today()
    stores = STORES[:4]
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, stores, today)
        dag_run = stack.api.trigger(DAG_ID, {"max_workers": 3, "window_days": 30})
        # Start the CLI once the DAG's first store is syncing, so the two really overlap.
        deadline = time.monotonic() + 120
        while not any(
            ti["task_id"] == "sync_store" and ti["state"] == "running"
            for ti in stack.api.task_instances(DAG_ID, dag_run["dag_run_id"])
        ):
            assert time.monotonic() < deadline, "the DAG's sync_store never started"
            time.sleep(0.3)
        cli = subprocess.run(
            [str(REPO / "scripts" / "orders_sync_run_profiler.sh"),
             "--window-days", "30", "--max-workers", "3", "--env", "cli"],
            env=clean_env(
                ORDERS_SYNC_DATABASE_URL=db_url, ORDERS_SYNC_TIMEZONE=TIMEZONE,
                TD_API_BASE_URL=str(stack.simulator_url), TD_API_TOKEN=LOCAL_TD_TOKEN,
                UC_API_BASE_URL=str(stack.simulator_url), UC_API_TOKEN=LOCAL_UC_TOKEN,
            ),
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        finished = stack.api.wait_for_run(DAG_ID, dag_run["dag_run_id"], timeout_s=240)
        assert cli.returncode == 0, cli.stdout[-2000:] + cli.stderr[-2000:]
        assert finished["state"] == "success"

        run_ids = profiler_run_ids(engine)
        assert len(run_ids) == 2
        rows = [row for run_id in run_ids for row in _log(engine, run_id)]
        by_store: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_store[row["store_code"]].append(row)
        assert set(by_store) == {code for code, _, _ in stores}  # every store ran somewhere
        for code, windows in by_store.items():
            windows.sort(key=lambda row: row["created_at"])
            for before, after in zip(windows, windows[1:], strict=False):
                assert after["created_at"] >= before["updated_at"], (
                    f"{code}: two windows ran at once ({before['run_id']}, {after['run_id']})"
                )
        for run_id in run_ids:
            summary = summary_row(engine, run_id)
            assert summary["overall_status"] == "success"
            run_rows = [row for row in rows if row["run_id"] == run_id]
            _assert_summary_counts_match_log(summary["summary_text"], run_rows)
            skipped = len(stores) - len({row["store_code"] for row in run_rows})
            if skipped:
                assert f"skipped_stores={skipped}" in summary["summary_text"]
            else:
                assert "skipped_stores" not in summary["summary_text"]
        # The two runs really competed: at least one store was skipped by one of them.
        assert any("skipped_stores" in summary_row(engine, r)["summary_text"] for r in run_ids)
    finally:
        engine.dispose()


DOWNSTREAM = "orders_sync_downstream_example"


def _asset_events(stack: RunningStack, dag_run_id: str) -> list[dict[str, Any]]:
    found = stack.api.request(
        "GET", "/assets/events", params={"source_dag_id": DAG_ID, "source_run_id": dag_run_id}
    )
    return list(found["asset_events"])


def _downstream_runs(stack: RunningStack) -> list[dict[str, Any]]:
    return list(stack.api.request("GET", f"/dags/{DOWNSTREAM}/dagRuns")["dag_runs"])


def _wait(predicate: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return bool(predicate())


def test_asset_events_trigger_the_downstream_dag_and_a_failed_run_alerts_once(
    stack: RunningStack, db_url: str
) -> None:
    from tests.support.receivers import webhook_receiver

    today = _today()
    engine = sa.create_engine(db_url)
    with webhook_receiver() as receiver:
        stack.api.upsert_connections(
            [{"connection_id": "orders_sync_alerts", "conn_type": "http", "host": receiver.url}]
        )
        assert _wait(lambda: stack.api.get_dag(DOWNSTREAM) is not None, 120), "not parsed"
        stack.api.set_paused(DOWNSTREAM, False)
        now = pendulum.now(TIMEZONE).replace(microsecond=0).isoformat()
        _simulator(stack, "clock", {"now": now})  # the source's data stays put between runs
        try:
            seed_stores(engine, [("S1", "TD", 40), ("S6", "UC", 40)], today)

            # 1. New rows: asset events for the three tables; the downstream DAG runs once.
            first, _ = _run(stack, {"window_days": 30})
            assert first["state"] == "success"
            events = _asset_events(stack, first["dag_run_id"])
            assert {e["uri"] for e in events} == {
                "orders-sync://orders/td_orders",
                "orders-sync://orders/td_sales",
                "orders-sync://orders/uc_orders",
            }
            [run_id] = profiler_run_ids(engine)
            td_orders = next(e for e in events if e["uri"].endswith("/td_orders"))
            assert td_orders["extra"]["run_id"] == run_id
            assert td_orders["extra"]["rows_inserted"] > 0 and td_orders["extra"]["stores"] == [
                "S1"
            ]
            assert _wait(lambda: len(_downstream_runs(stack)) == 1, 120)

            # 2. The same data again: nothing changed, no event, no downstream run.
            second, _ = _run(stack, {"window_days": 30})
            assert second["state"] == "success"
            assert _asset_events(stack, second["dag_run_id"]) == []
            assert receiver.posts == []  # successful runs post nothing

            # 3. A failing store: the DAG run fails and alerts exactly once.
            _simulator(stack, "faults", {"fail_store": {"store_code": "S6", "endpoint": "gst"}})
            third, _ = _run(stack, {"window_days": 30})
            assert third["state"] == "failed"
            [payload] = receiver.wait_for(1, timeout_s=90)
            time.sleep(5)  # a second alert (one per mapped task) would have arrived by now
            assert len(receiver.posts) == 1
            third_run_id = next(r for r in profiler_run_ids(engine) if r != run_id and
                                summary_row(engine, r)["overall_status"] == "failed")  # fmt: skip
            assert payload["run_id"] == third_run_id
            assert [(f["store_code"], f["status"]) for f in payload["failures"]] == [
                ("S6", "failed")
            ]
            assert payload["text"].startswith("orders_sync_run_profiler failed (")
            assert len(_downstream_runs(stack)) == 1
        finally:
            _simulator(stack, "clock", {"real": True})
            stack.api.set_paused(DOWNSTREAM, True)
            stack.api.request("DELETE", "/connections/orders_sync_alerts")
            engine.dispose()


def test_a_rate_limited_crm_fails_no_window_of_the_mapped_tasks(
    stack: RunningStack, db_url: str
) -> None:
    # interfaces.md "Source rate limits", on the real scheduler: three mapped batches at once
    # against CRMs allowing 6 requests a second each; every 429 is "later", never a failure.
    today = _today()
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, STORES, today)
        _simulator(
            stack,
            "faults",
            {"limit_requests": {"td": {"rps": 6, "burst": 6}, "uc": {"rps": 6, "burst": 6}}},
        )
        run, tis = _run(stack, {"max_workers": 3, "window_days": 60})
        assert run["state"] == "success", _states(tis)
        batches = [ti for ti in tis if ti["task_id"] == "sync_store"]
        assert len(batches) >= 2 and {ti["state"] for ti in batches} == {"success"}
        [run_id] = profiler_run_ids(engine)
        rows = _log(engine, run_id)
        assert rows and {row["status"] for row in rows} == {"success"}
        assert summary_row(engine, run_id)["overall_status"] == "success"
        stats = httpx.get(f"{stack.simulator_url}/_sim/stats", timeout=10).json()
        assert stats["faults"]["limited"] > 0  # the limit was met, and found
    finally:
        _simulator(stack, "reset", {})
        engine.dispose()
