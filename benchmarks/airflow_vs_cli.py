"""The profiler under the real Airflow scheduler vs the command line, on the same data: a
12-store backfill by default, the daily-run shape with ``--days 1`` and many stores.

    .venv/bin/python benchmarks/airflow_vs_cli.py [--stores 12] [--max-workers 4]
        [--days 365] [--window-days 90] [--latency-ms 20]

Everything is local and throw-away: an embedded PostgreSQL in a temporary directory with two
identical orders databases (same stores), one CRM simulator process (with per-request
latency, like a real CRM), and a real Airflow (api-server, scheduler with LocalExecutor,
dag-processor, triggerer; metadata on the same PostgreSQL). The CLI
(``scripts/orders_sync_run_profiler.sh``) backfills one database, then the DAG, triggered
through the REST API with the same conf, backfills the other — after one dry-run DAG run,
so that Airflow is measured as a long-running deployment sees it (the first task a fresh
scheduler and api-server run pays ~3.5 s of one-time start-up that no later run pays). It
prints both wall times (the DAG's: trigger to the run's recorded end), checks both wrote the
same windows and statuses, and breaks Airflow's overhead down:

- per mapped task: the ``sync_store`` task instance's duration minus the time its stores'
  windows took (from ``orders_sync_log``): process start, DAG parse, connections, slot, and
  per plan of its batch the store lock, pipeline set-up and log rows;
- fixed per run: ``start``, ``plan``, ``finish``, ``check`` and the scheduling gaps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pendulum
import psycopg
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from orders_sync.db.migrate import upgrade  # noqa: E402
from orders_sync.db.repositories import stores  # noqa: E402
from orders_sync_devtools import embedded_postgres as embedded  # noqa: E402
from orders_sync_devtools.airflow_stack import (  # noqa: E402
    DAG_ID,
    LOCAL_TD_TOKEN,
    LOCAL_UC_TOKEN,
    SCHEDULER_IDLE_SLEEP_S,
    LocalAirflow,
    StackOptions,
)

TIMEZONE = "Asia/Kolkata"
IDLE_S = 15.0
"""Seconds the idle scheduler's CPU is measured after the DAG run."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=12)
    parser.add_argument("--max-workers", type=int, default=4)
    parser.add_argument("--days", type=int, default=365, help="history of each store")
    parser.add_argument("--window-days", type=int, default=90)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per CRM request")
    parser.add_argument(
        "--scheduler-idle-sleep",
        type=float,
        default=float(SCHEDULER_IDLE_SLEEP_S),
        help="[scheduler] scheduler_idle_sleep_time in seconds (default: the stack's, "
        f"{SCHEDULER_IDLE_SLEEP_S} s; Airflow's own is 1 s)",
    )
    return parser


def _seed(url: str, count: int, days: int, today: dt.date) -> None:
    upgrade(url)
    engine = sa.create_engine(url)
    rows = [
        {
            "store_code": f"{'A' if i % 3 else 'U'}{i:03d}",
            "store_name": f"bench store {i}",
            "sync_group": "TD" if i % 3 else "UC",
            "cost_center": "CC1",
            "start_date": today - dt.timedelta(days=days),
        }
        for i in range(1, count + 1)
    ]
    with engine.begin() as conn:
        stores.insert_stores(conn, rows)
    engine.dispose()


def _log(url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [
            dict(row._mapping)
            for row in conn.execute(
                sa.text(
                    "SELECT store_code, from_date, to_date, status, created_at, updated_at "
                    "FROM orders_sync_log ORDER BY store_code, from_date"
                )
            )
        ]
    engine.dispose()
    return rows


def _store_seconds(rows: list[dict[str, Any]]) -> dict[str, float]:
    spans: dict[str, list[Any]] = {}
    for row in rows:
        span = spans.setdefault(row["store_code"], [row["created_at"], row["updated_at"]])
        span[0], span[1] = min(span[0], row["created_at"]), max(span[1], row["updated_at"])
    return {code: (end - start).total_seconds() for code, (start, end) in spans.items()}


def _seconds(ti: dict[str, Any]) -> float:
    return float(
        (pendulum.parse(ti["end_date"]) - pendulum.parse(ti["start_date"])).total_seconds()
    )


def main() -> int:
    args = _parser().parse_args()
    today = pendulum.today(TIMEZONE).date()
    conf = {"max_workers": args.max_workers, "window_days": args.window_days}
    with tempfile.TemporaryDirectory(prefix="orders_sync_bench_") as tmp:
        state = Path(tmp) / "state"
        server = embedded.ensure_running(state, durable=False)
        try:
            urls = {}
            for name in ("bench_cli", "bench_dag"):
                with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                urls[name] = server.url(name)
                _seed(urls[name], args.stores, args.days, today)
            options = StackOptions(
                airflow_home=Path(tmp) / "airflow",
                state_dir=state,
                orders_database_url=urls["bench_dag"],
                api_port=0,
                max_workers=args.max_workers,
                seed_demo_stores=False,
                durable=False,
                extra_env=_stack_env(args),
            )
            started = time.monotonic()
            with LocalAirflow(options) as stack:
                print(f"Airflow stack up in {time.monotonic() - started:.1f} s")
                httpx.post(
                    f"{stack.simulator_url}/_sim/faults",
                    json={"latency_ms": args.latency_ms},
                    timeout=10,
                ).raise_for_status()
                cli_s = _run_cli(stack, urls["bench_cli"], args)
                warm_s = _run_dag(stack, {"dry_run": True})[0]
                print(f"warm-up DAG run (dry run, writes nothing) {warm_s:.1f} s")
                scheduler_cpu_before = _scheduler_cpu(stack)
                dag_s, run, tis = _run_dag(stack, conf)
                scheduler_cpu = _scheduler_cpu(stack) - scheduler_cpu_before
                idle_before = _scheduler_cpu(stack)
                time.sleep(IDLE_S)
                idle_cpu = (_scheduler_cpu(stack) - idle_before) / IDLE_S
                largest_xcom = _largest_xcom(stack.metadata_url)
            _report(args, cli_s, dag_s, run, tis, urls)
            print(
                f"  scheduler process CPU during the DAG run {scheduler_cpu:.1f} s; largest XCom "
                f"value {largest_xcom:,} bytes; scheduler CPU when idle {idle_cpu:.0%} of a core "
                f"(scheduler_idle_sleep_time {args.scheduler_idle_sleep:g} s)"
            )
        finally:
            from orders_sync.db.engine import dispose_engines

            dispose_engines()
            embedded.stop(state)
    return 0


def _stack_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        "ORDERS_SYNC_DAG_SCHEDULE": "none",
        "ORDERS_SYNC_TIMEZONE": TIMEZONE,
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": str(args.scheduler_idle_sleep),
    }


def _scheduler_cpu(stack: LocalAirflow) -> float:
    """CPU seconds of the scheduler's own process so far (its loop; not the LocalExecutor
    workers it forked, which run the tasks)."""
    import psutil

    [scheduler] = [p for p in stack.processes if p.name == "scheduler"]
    times = psutil.Process(scheduler.popen.pid).cpu_times()
    return float(times.user + times.system)


def _largest_xcom(metadata_url: str) -> int:
    """The largest XCom value stored in Airflow's metadata database, in bytes."""
    engine = sa.create_engine(metadata_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT max(octet_length(value::text)) FROM xcom"))
            return int(found.scalar() or 0)
    finally:
        engine.dispose()


def _run_cli(stack: LocalAirflow, url: str, args: argparse.Namespace) -> float:
    env = dict(stack.env)
    env.update(
        ORDERS_SYNC_DATABASE_URL=url,
        TD_API_BASE_URL=str(stack.simulator_url),
        TD_API_TOKEN=LOCAL_TD_TOKEN,
        UC_API_BASE_URL=str(stack.simulator_url),
        UC_API_TOKEN=LOCAL_UC_TOKEN,
    )
    command = [
        str(REPO / "scripts" / "orders_sync_run_profiler.sh"),
        "--max-workers", str(args.max_workers), "--window-days", str(args.window_days),
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the CLI failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def _run_dag(
    stack: LocalAirflow, conf: dict[str, Any]
) -> tuple[float, dict[str, Any], list[dict[str, Any]]]:
    triggered = pendulum.now("UTC")
    run = stack.api.trigger(DAG_ID, conf)
    finished = stack.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout_s=1800, poll_s=0.5)
    # trigger -> the run's end as Airflow recorded it (not when the poll noticed it)
    elapsed = (pendulum.parse(finished["end_date"]) - triggered).total_seconds()
    if finished["state"] != "success":
        raise SystemExit(f"the DAG run ended {finished['state']}")
    return elapsed, finished, stack.api.task_instances(DAG_ID, run["dag_run_id"])


def _report(
    args: argparse.Namespace,
    cli_s: float,
    dag_s: float,
    run: dict[str, Any],
    tis: list[dict[str, Any]],
    urls: dict[str, str],
) -> None:
    cli_rows, dag_rows = _log(urls["bench_cli"]), _log(urls["bench_dag"])
    same = [(r["store_code"], r["from_date"], r["to_date"], r["status"]) for r in cli_rows] == [
        (r["store_code"], r["from_date"], r["to_date"], r["status"]) for r in dag_rows
    ]
    work = _store_seconds(dag_rows)
    mapped = [ti for ti in tis if ti["task_id"] == "sync_store"]
    # A mapped task runs a batch of plans: its overhead is its duration minus its stores'
    # windows; per task, on average, over the whole run.
    overhead_total = sum(_seconds(ti) for ti in mapped) - sum(work.values())
    overheads = [overhead_total / max(1, len(mapped))]
    fixed = {ti["task_id"]: _seconds(ti) for ti in tis if ti["task_id"] != "sync_store"}
    run_s = (pendulum.parse(run["end_date"]) - pendulum.parse(run["start_date"])).total_seconds()
    print(
        f"""
{args.stores} stores x {args.days} days, window {args.window_days} days, max_workers \
{args.max_workers} (pool {args.max_workers}), CRM latency {args.latency_ms:.0f} ms/request
  windows                       CLI {len(cli_rows)}, DAG {len(dag_rows)} (same windows and \
statuses: {same})
  CLI wall time                 {cli_s:6.1f} s
  DAG wall time (trigger->end)  {dag_s:6.1f} s   (DAG run start->end {run_s:.1f} s)
  Airflow / CLI                 {dag_s / cli_s:6.2f} x
  mapped sync_store tasks       {len(mapped)} (batches of {args.stores / max(1, len(mapped)):.0f} \
plans on average)
  per mapped task outside windows mean {statistics.mean(overheads):.2f} s  (task duration - \
its stores' windows: task start-up, and per plan its lock, set-up and log rows)
  store sync time (work)        mean {statistics.mean(work.values()):.2f} s per store
  fixed tasks                   {", ".join(f"{k} {v:.1f} s" for k, v in fixed.items())}
  extra wall time per mapped task (DAG - CLI) / tasks: {(dag_s - cli_s) / len(mapped):.2f} s
"""
    )


if __name__ == "__main__":
    raise SystemExit(main())
