"""The standalone commands end to end: exit statuses, what they write, and "today".

The commands run as subprocesses (through the shell scripts, from another directory)
against the test database and a simulator started here, over real HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from orders_sync.config import REPOSITORY_ROOT, Endpoint, Settings, override_settings
from orders_sync.pipelines import standalone
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.integration.pipelines.conftest import TOKEN
from tests.support.seeding import TD_ORDERS_SYNC

SCRIPTS = REPOSITORY_ROOT / "scripts"
TABLES = ("pipeline_run_summaries", "orders_sync_log", "td_orders", "td_sales", "uc_orders")
WINDOW = ["--from-date", "2026-01-05", "--to-date", "2026-01-07"]


def _run(
    script: str, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPTS / script), *args],
        env=env,
        cwd=cwd,  # not the repository: the scripts work from anywhere
        capture_output=True,
        text=True,
        timeout=120,
    )


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES
        }


BAD_USAGE = [
    ("td_orders_sync.sh", ["--from-date", "2026-01-07", "--to-date", "2026-01-05"], {}, "after"),
    ("uc_orders_sync.sh", ["--from-date", "2026-01-07", "--to-date", "2026-01-05"], {}, "after"),
    ("td_orders_sync.sh", ["--from-date", "2026-13-01"], {}, "invalid date '2026-13-01'"),
    ("td_orders_sync.sh", ["--to-date", "05/01/2026"], {}, "YYYY-MM-DD"),
    ("uc_orders_sync.sh", ["--to-date", "2026-1-5"], {}, "invalid date"),
    ("td_orders_sync.sh", ["--from-date", "2999-01-01"], {}, "after"),
    ("td_orders_sync.sh", ["--from-date"], {}, "expected one argument"),
    ("td_orders_sync.sh", ["--store-code", "ZZ99"], {}, "unknown store code 'ZZ99'"),
    ("td_orders_sync.sh", ["--store-code", "A009"], {}, "inactive"),
    ("td_orders_sync.sh", ["--store-code", "UC10"], {}, "sync group UC, not TD"),
    ("uc_orders_sync.sh", ["--store-code", "A001"], {}, "sync group TD, not UC"),
    ("td_orders_sync.sh", ["--store-code", ""], {}, "must not be empty"),
    ("td_orders_sync.sh", ["--orders-only", "--sales-only"], {}, "not allowed with"),
    ("uc_orders_sync.sh", ["--orders-only"], {}, "unrecognized arguments"),
    ("td_orders_sync.sh", ["--bogus"], {}, "unrecognized arguments"),
    ("td_orders_sync.sh", ["--log-format", "xml"], {}, "invalid choice"),
    ("td_orders_sync.sh", ["--env", ""], {}, "--env must not be empty"),
    ("td_orders_sync.sh", [], {"ORDERS_SYNC_TIMEZONE": "Mars/Olympus"}, "not a known IANA"),
    ("td_orders_sync.sh", [], {"TD_API_BASE_URL": "ftp://crm"}, "must start with http"),
    ("uc_orders_sync.sh", [], {"UC_API_TOKEN": ""}, "UC_API_TOKEN must be set"),
    (
        "td_orders_sync.sh",
        [],
        {"ORDERS_SYNC_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        "cannot connect to the orders database",
    ),
]  # fmt: skip
BAD_USAGE_IDS = [
    "td-reversed-dates",
    "uc-reversed-dates",
    "month-13",
    "slashed-date",
    "unpadded-date",
    "from-after-default-today",
    "missing-value",
    "unknown-store",
    "inactive-store",
    "td-given-uc-store",
    "uc-given-td-store",
    "empty-store",
    "orders-and-sales-only",
    "uc-orders-only",
    "unknown-flag",
    "bad-log-format",
    "empty-env",
    "bad-timezone",
    "bad-api-url",
    "url-without-token",
    "unreachable-database",
]


@pytest.mark.parametrize(("script", "args", "env_extra", "says"), BAD_USAGE, ids=BAD_USAGE_IDS)
def test_bad_usage_exits_2_with_one_line_and_writes_nothing(
    script: str,
    args: list[str],
    env_extra: dict[str, str],
    says: str,
    seeded: sa.Engine,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    before = _counts(seeded)
    done = _run(script, args, {**cli_env, **env_extra}, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert says in lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert _counts(seeded) == before == {**dict.fromkeys(TABLES, 0)}


def _summary(engine: sa.Engine) -> sa.Row[tuple[object, ...]]:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM pipeline_run_summaries")).one()


def _log(engine: sa.Engine) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT * FROM orders_sync_log ORDER BY store_code")))


def test_td_run_of_every_active_store_exits_0(
    seeded: sa.Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    done = _run("td_orders_sync.sh", WINDOW, cli_env, tmp_path)
    assert done.returncode == 0, done.stderr
    summary = _summary(seeded)
    rows = _log(seeded)
    assert [r.store_code for r in rows] == ["A001", "A002"]  # not inactive A009, not UC10
    assert {(r.status, r.run_id, r.run_env, r.from_date, r.to_date) for r in rows} == {
        ("success", summary.run_id, "clitest", dt.date(2026, 1, 5), dt.date(2026, 1, 7))
    }
    assert (summary.pipeline_name, summary.run_env, summary.overall_status) == (
        "td_orders_sync",
        "clitest",
        "success",
    )
    assert summary.finished_at is not None
    assert summary.summary_text.startswith("td_orders_sync: success=2 partial=0 failed=0; ")
    events = [json.loads(line) for line in done.stderr.splitlines()]  # not a TTY: JSON lines
    windows = [e for e in events if e.get("store_code")]
    assert {(e["store_code"], e["status"], e["run_id"]) for e in windows} == {
        ("A001", "success", summary.run_id),
        ("A002", "success", summary.run_id),
    }
    assert all({"from_date", "to_date", "duration_ms", "rows_fetched"} <= set(e) for e in windows)


def test_a_partial_window_exits_1_and_rolls_up_partial(
    seeded: sa.Engine, cli_env: dict[str, str], simulator: SimulatorServer, tmp_path: Path
) -> None:
    simulator.faults.fail_store("A002", endpoint="sales")
    done = _run("td_orders_sync.sh", [*WINDOW, "--log-format", "text"], cli_env, tmp_path)
    assert done.returncode == 1, done.stderr
    assert [(r.store_code, r.status) for r in _log(seeded)] == [
        ("A001", "success"),
        ("A002", "partial"),
    ]
    summary = _summary(seeded)
    assert summary.overall_status == "partial"
    assert summary.summary_text.startswith("td_orders_sync: success=1 partial=1 failed=0")
    assert "A002" in done.stderr and "partial" in done.stderr and not done.stderr.startswith("{")


def test_a_failed_window_exits_1_and_rolls_up_failed(
    seeded: sa.Engine, cli_env: dict[str, str], simulator: SimulatorServer, tmp_path: Path
) -> None:
    simulator.faults.fail_store("UC10", endpoint="gst")
    done = _run("uc_orders_sync.sh", WINDOW, cli_env, tmp_path)
    assert done.returncode == 1, done.stderr
    assert [(r.store_code, r.status) for r in _log(seeded)] == [("UC10", "failed")]
    assert _summary(seeded).overall_status == "failed"


def test_no_active_store_is_bad_configuration_exits_2_and_writes_nothing(
    seeded: sa.Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    # interfaces.md "Command line": a run that selects no store at all is not a success.
    with seeded.begin() as conn:
        conn.execute(sa.text("UPDATE store_master SET is_active = false WHERE sync_group = 'UC'"))
    done = _run("uc_orders_sync.sh", WINDOW, cli_env, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: no store to sync: public.store_master")
    assert "UC" in lines[0] and "@" not in lines[0]
    assert _log(seeded) == []
    with seeded.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pipeline_run_summaries")).scalar() == 0


@pytest.mark.parametrize(
    ("flag", "orders", "sales"),
    [("--orders-only", True, False), ("--sales-only", False, True)],
    ids=["orders-only", "sales-only"],
)
def test_td_only_flags_pull_only_their_part(
    flag: str,
    orders: bool,
    sales: bool,
    seeded: sa.Engine,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    done = _run("td_orders_sync.sh", [*WINDOW, "--store-code", "A001", flag], cli_env, tmp_path)
    assert done.returncode == 0, done.stderr
    [row] = _log(seeded)
    assert (row.status, row.orders_pulled_at is not None, row.sales_pulled_at is not None) == (
        "success",
        orders,
        sales,
    )


def test_default_window_is_the_last_90_days_in_the_pipeline_timezone(
    seeded: sa.Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    import pendulum

    def expected() -> tuple[dt.date, dt.date]:
        today = pendulum.today("Asia/Kolkata").date()
        return today - dt.timedelta(days=89), today

    before = expected()
    done = _run("uc_orders_sync.sh", ["--store-code", "UC10"], cli_env, tmp_path)
    after = expected()
    assert done.returncode == 0, done.stderr
    [row] = _log(seeded)
    assert (row.from_date, row.to_date) in {before, after}
    assert _summary(seeded).report_date == row.to_date


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Remove the handler an in-process command attaches to the ``orders_sync`` logger."""
    logger = logging.getLogger("orders_sync")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.mark.parametrize(
    ("timezone", "utc_now", "today"),
    [
        ("Asia/Kolkata", dt.datetime(2026, 1, 6, 20, 0), dt.date(2026, 1, 7)),
        ("Asia/Kolkata", dt.datetime(2026, 1, 6, 18, 29), dt.date(2026, 1, 6)),
        ("Asia/Kolkata", dt.datetime(2026, 1, 6, 18, 30), dt.date(2026, 1, 7)),
        ("UTC", dt.datetime(2026, 1, 6, 20, 0), dt.date(2026, 1, 6)),
        ("America/Los_Angeles", dt.datetime(2026, 1, 6, 5, 0), dt.date(2026, 1, 5)),
    ],
    ids=["kolkata-20utc-is-tomorrow", "kolkata-2359", "kolkata-0000", "utc", "los-angeles"],
)
def test_default_to_date_is_today_in_the_pipeline_timezone(
    timezone: str,
    utc_now: dt.datetime,
    today: dt.date,
    db_url: str,
    seeded: sa.Engine,
    simulator: SimulatorServer,
    tmp_path: Path,
    restore_logging: None,
) -> None:
    override_settings(
        Settings(
            database_url=db_url,
            pipeline_timezone=timezone,
            endpoints={"TD": Endpoint(simulator.base_url, TOKEN)},
            state_dir=tmp_path / "state",
        )
    )
    frozen = utc_now.replace(tzinfo=dt.UTC)
    status = standalone.main(
        TD_ORDERS_SYNC,
        ["--store-code", "A001", "--orders-only", "--log-format", "json"],
        now=lambda: frozen,
    )
    assert status == 0
    [row] = _log(seeded)
    assert (row.from_date, row.to_date) == (today - dt.timedelta(days=89), today)
    assert _summary(seeded).report_date == today
