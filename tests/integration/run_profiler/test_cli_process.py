"""The profiler's command line as a real process: exit statuses, output, nothing written on
bad input, failure isolation, ``--dry-run``.

Each process gets ``ORDERS_SYNC_DATABASE_URL`` (the test's database), ``TD_API_BASE_URL`` /
``UC_API_BASE_URL`` (a simulator started by the test, clock frozen at the real "now", since
a process plans with the real today) and the tokens. Stores start 20 days before today, so
``--window-days 7`` gives three windows each.
"""

from __future__ import annotations

import datetime as dt
import json

import pendulum
import pytest
import sqlalchemy as sa

from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import cli, observe
from tests.support.seeding import LogRow, Store, seed_log, seed_stores
from tests.support.simulation import assert_matches_truth, cli_env

DAYS = 20


def stores(today: dt.date) -> list[Store]:
    start = today - dt.timedelta(days=DAYS)
    return [
        Store("A001", "TD", start),
        Store("A002", "TD", start),
        Store("U001", "UC", start),
        Store("A009", "TD", start, is_active=False),
    ]


def windows(today: dt.date, n: int = 7) -> list[tuple[dt.date, dt.date]]:
    """The N-day windows from the stores' start date to today."""
    start = today - dt.timedelta(days=DAYS)
    result = []
    while start <= today:
        end = min(start + dt.timedelta(days=n - 1), today)
        result.append((start, end))
        start = end + dt.timedelta(days=1)
    return result


def assert_no_traceback(finished: cli.Finished) -> None:
    assert "Traceback" not in finished.stderr, finished.stderr
    assert "Traceback" not in finished.stdout, finished.stdout


def only_run_id(engine: sa.Engine) -> str:
    runs = observe.profiler_summaries(engine)
    assert len(runs) == 1, runs
    return str(runs[0]["run_id"])


def test_wrapper_backfills_then_only_refreshes(
    engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date
) -> None:
    seed_stores(engine, stores(real_today))
    env = cli_env(db_url, live_sim)

    first = cli.run(["--window-days", "7", "--env", "clitest"], env, wrapper=True)

    assert first.returncode == 0, first.stderr
    assert_no_traceback(first)
    run_id = only_run_id(engine)
    assert run_id in first.stdout
    summary = observe.summary(engine, run_id)
    assert (summary["overall_status"], summary["run_env"]) == ("success", "clitest")
    assert summary["report_date"] == real_today
    assert summary["finished_at"] is not None
    entries = observe.log_entries(engine, run_id=run_id)
    assert observe.windows_by_store(entries) == {
        code: windows(real_today) for code in ("A001", "A002", "U001")
    }
    with engine.connect() as conn:
        envs = conn.execute(
            sa.text("SELECT DISTINCT run_env FROM orders_sync_log WHERE run_id = :r"), {"r": run_id}
        ).scalars()
        assert list(envs) == ["clitest"]
    for store in stores(real_today)[:3]:
        assert_matches_truth(
            engine, live_sim, store.store_code, store.sync_group, store.start_date, real_today
        )

    second = cli.run(["--window-days", "7"], env)

    assert second.returncode == 0, second.stderr
    runs = observe.profiler_summaries(engine)
    later = observe.log_entries(engine, run_id=str(runs[-1]["run_id"]))
    assert {(e.store_code, e.window, e.window_reason) for e in later} == {
        (code, (real_today, real_today), "missing,overlap") for code in ("A001", "A002", "U001")
    }


def test_wrapper_works_from_any_directory(tmp_path: object, live_sim: SimulatorServer) -> None:
    """interfaces.md: "Every script works from any directory" (like td_orders_sync.sh, the
    wrapper must put the repository on the path, or rely on an installed package)."""
    finished = cli.run(
        ["--help"], cli_env("postgresql://nowhere:1/x", live_sim), wrapper=True, cwd="/"
    )

    assert finished.returncode == 0, finished.stderr
    assert "--window-days" in finished.stdout


def test_failure_in_2nd_window_exits_1_and_isolates_the_store(
    engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date
) -> None:
    seed_stores(engine, stores(real_today))
    second = windows(real_today)[1]
    live_sim.faults.fail_store("A002", endpoint="orders", from_date=second[0], to_date=second[1])

    finished = cli.run(["--window-days", "7", "--max-workers", "2"], cli_env(db_url, live_sim))

    assert finished.returncode == 1, finished.stderr
    assert_no_traceback(finished)
    run_id = only_run_id(engine)
    entries = observe.log_entries(engine, run_id=run_id)
    assert observe.statuses_by_store(entries) == {
        "A001": ["success"] * 3,
        "A002": ["success", "failed"],
        "U001": ["success"] * 3,
    }
    assert observe.summary(engine, run_id)["overall_status"] == "failed"
    assert "failed" in finished.stdout


def test_sales_failing_gives_partial_and_exit_1(
    engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date
) -> None:
    seed_stores(engine, stores(real_today))
    live_sim.faults.fail_store("A001", endpoint="sales")

    finished = cli.run(["--window-days", "7"], cli_env(db_url, live_sim))

    assert finished.returncode == 1, finished.stderr
    run_id = only_run_id(engine)
    statuses = observe.statuses_by_store(observe.log_entries(engine, run_id=run_id))
    assert statuses["A001"] == ["partial"]
    assert observe.summary(engine, run_id)["overall_status"] == "partial"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store-code", "ZZ99"], "unknown store code"),
        (["--store-code", "a001"], "unknown store code"),
        (["--store-code", "A009"], "inactive"),
        (["--store-code", "U001", "--sync-group", "TD"], "sync group"),
    ],
    ids=["unknown", "case-differs", "inactive", "other-sync-group"],
)
@pytest.mark.parametrize("wrapper", [True, False], ids=["wrapper", "python-m"])
def test_unrunnable_store_exits_2_and_writes_nothing(
    engine: sa.Engine,
    db_url: str,
    live_sim: SimulatorServer,
    real_today: dt.date,
    args: list[str],
    message: str,
    wrapper: bool,
) -> None:
    seed_stores(engine, stores(real_today))
    before = observe.table_counts(engine)

    finished = cli.run(args, cli_env(db_url, live_sim), wrapper=wrapper)

    assert finished.returncode == 2
    lines = finished.stderr_lines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("error:") and message in lines[0]
    assert observe.table_counts(engine) == before
    assert live_sim.requests_total == 0


@pytest.mark.parametrize(
    ("seeded", "args", "groups"),
    [
        (False, [], "TD or UC"),
        (True, ["--sync-group", "UC"], "UC"),
    ],
    ids=["empty-store-master", "no-store-of-the-group"],
)
def test_a_run_selecting_no_store_exits_2_and_writes_nothing(
    engine: sa.Engine,
    db_url: str,
    live_sim: SimulatorServer,
    real_today: dt.date,
    seeded: bool,
    args: list[str],
    groups: str,
) -> None:
    if seeded:
        seed_stores(engine, [s for s in stores(real_today) if s.sync_group == "TD"])
    before = observe.table_counts(engine)

    finished = cli.run(args, cli_env(db_url, live_sim), wrapper=True)

    assert finished.returncode == 2, finished.stderr
    (line,) = finished.stderr_lines()
    assert line.startswith("error: no store to sync: public.store_master of the database ")
    assert f"sync group {groups};" in line and "postgres@" not in line
    assert observe.table_counts(engine) == before
    assert live_sim.requests_total == 0


BAD_FLAGS = {
    "window-days-0": (["--window-days", "0"], "--window-days"),
    "window-days-not-a-number": (["--window-days", "seven"], "--window-days"),
    "overlap-days-negative": (["--overlap-days", "-1"], "--overlap-days"),
    "max-workers-0": (["--max-workers", "0"], "--max-workers"),
    "sync-group-XX": (["--sync-group", "XX"], "--sync-group"),
    "sync-group-lowercase": (["--sync-group", "td"], "--sync-group"),
    "unknown-flag": (["--backfill-mode", "full"], "--backfill-mode"),
    "stray-argument": (["now"], "now"),
    "env-too-long": (["--env", "x" * 33], "--env"),
}


@pytest.mark.parametrize(("args", "names"), BAD_FLAGS.values(), ids=BAD_FLAGS.keys())
def test_bad_flag_exits_2_with_one_line_and_writes_nothing(
    engine: sa.Engine,
    db_url: str,
    live_sim: SimulatorServer,
    real_today: dt.date,
    args: list[str],
    names: str,
) -> None:
    seed_stores(engine, stores(real_today))
    before = observe.table_counts(engine)

    finished = cli.run(args, cli_env(db_url, live_sim))

    assert finished.returncode == 2
    lines = finished.stderr_lines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("error:") and names in lines[0]
    assert finished.stdout == ""
    assert observe.table_counts(engine) == before
    assert live_sim.requests_total == 0


def test_unreachable_database_exits_2_with_one_line(live_sim: SimulatorServer) -> None:
    env = cli_env("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", live_sim)

    finished = cli.run(["--window-days", "7"], env)

    assert finished.returncode == 2
    lines = finished.stderr_lines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("error:") and "127.0.0.1:1/nowhere" in lines[0]
    assert live_sim.requests_total == 0


def test_help_explains_the_rules(live_sim: SimulatorServer) -> None:
    finished = cli.run(["--help"], cli_env("postgresql://nowhere:1/x", live_sim))

    assert finished.returncode == 0
    for flag in ("--window-days", "--overlap-days", "--max-workers", "--force", "--dry-run"):
        assert flag in finished.stdout
    assert "orders_sync_log" in finished.stdout


def test_dry_run_prints_every_job_window_and_reason_and_writes_nothing(
    engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date
) -> None:
    seed_stores(engine, stores(real_today))
    w1, w2, w3 = windows(real_today)
    # A001: w1 and the start of w3 succeeded, w2 is a hole; A002: nothing yet; U001 done
    seed_log(
        engine,
        [
            LogRow("A001", *w1),
            LogRow("A001", w3[0], real_today - dt.timedelta(days=2)),
            LogRow("U001", w1[0], real_today, pipeline="uc_orders_sync"),
        ],
    )
    before = observe.table_counts(engine)

    finished = cli.run(["--window-days", "7", "--dry-run"], cli_env(db_url, live_sim))

    assert finished.returncode == 0, finished.stderr
    assert observe.table_counts(engine) == before
    assert live_sim.requests_total == 0
    assert str(real_today) in finished.stdout
    r = str  # dates as the plan prints them
    today_2 = real_today - dt.timedelta(days=2)
    assert plan_sections(finished.stdout) == {
        "A001 td_orders_sync": {
            f"{r(w2[0])}..{r(w2[1])}": "hole",
            f"{today_2}..{real_today}": "missing overlap",
        },
        "A002 td_orders_sync": {f"{a}..{b}": "missing" for a, b in (w1, w2, w3)},
        "U001 uc_orders_sync": {f"{real_today}..{real_today}": "missing overlap"},
    }


def plan_sections(text: str) -> dict[str, dict[str, str]]:
    """``--dry-run`` output → ``{"<store> <pipeline>": {"<from>..<to>": "<reasons>"}}``."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if line.startswith("  ") and current is not None:
            window, *rest = line.split()
            reasons = [word.rstrip(":") for word in rest if word.endswith(":")]
            current[window] = " ".join(reasons)
        elif line[:1].isalnum() and not line.startswith("Plan for"):
            current = sections.setdefault(" ".join(line.split()[:2]).rstrip(":"), {})
    return sections


def test_json_log_lines_carry_the_window_fields(
    engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date
) -> None:
    seed_stores(engine, stores(real_today)[:1])

    finished = cli.run(["--window-days", "7", "--log-format", "json"], cli_env(db_url, live_sim))

    assert finished.returncode == 0, finished.stderr
    records = [json.loads(line) for line in finished.stderr_lines()]
    window_records = [r for r in records if r.get("from_date") and r.get("status")]
    assert len(window_records) == 3
    for record in window_records:
        for field in ("run_id", "store_code", "pipeline", "to_date", "duration_ms"):
            assert field in record, record


@pytest.mark.parametrize(
    "timezone",
    ["Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata"],
    ids=["UTC+14", "UTC-12", "IST"],
)
def test_today_is_computed_in_the_pipeline_timezone(
    engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date, timezone: str
) -> None:
    seed_stores(engine, stores(real_today)[1:2])  # A002, nothing logged yet
    before = pendulum.now(timezone).date()

    finished = cli.run(
        ["--window-days", "7", "--dry-run"],
        cli_env(db_url, live_sim, ORDERS_SYNC_TIMEZONE=timezone),
    )

    after = pendulum.now(timezone).date()
    assert finished.returncode == 0, finished.stderr
    (windows_,) = plan_sections(finished.stdout).values()
    last_to = dt.date.fromisoformat(list(windows_)[-1].split("..")[1])
    assert last_to in {before, after}
    assert f"today {last_to}" in finished.stdout
