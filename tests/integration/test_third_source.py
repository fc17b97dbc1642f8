"""A third CRM, added without touching a production module (issue "One place per source").

The ``XX`` source of :mod:`tests.support.third_source` — its own tiny HTTP CRM, its own table
— is registered the way a deployment would register one (an ``orders_sync.sources`` entry
point of a distribution on ``PYTHONPATH``) and driven through every front end: the profiler
CLI, the standalone pipeline entry, the status command, a failure alert and ``dag.test()``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import sqlalchemy as sa

from orders_sync.config import REPOSITORY_ROOT
from tests.support import cli
from tests.support import third_source as xx
from tests.support.receivers import webhook_receiver

TIMEZONE = "Asia/Kolkata"
HISTORY_DAYS = xx.HISTORY_DAYS
STORES = xx.STORES


def _env(db_url: str, crm: xx.ReceiptCrm, site: Path, **extra: str) -> dict[str, str]:
    return {
        "PYTHONPATH": f"{site}:{REPOSITORY_ROOT}",
        "ORDERS_SYNC_DATABASE_URL": db_url,
        "ORDERS_SYNC_TIMEZONE": TIMEZONE,
        "XX_API_BASE_URL": crm.base_url,
        "XX_API_TOKEN": xx.TOKEN,
        **extra,
    }


def _run(module: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    merged = cli.child_env(env)
    merged["PYTHONPATH"] = env["PYTHONPATH"]
    return subprocess.run(
        [cli.PYTHON, "-m", module, *args],
        env=merged,
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _receipts(engine: sa.Engine, store_code: str) -> set[tuple[str, dt.date, str]]:
    with engine.connect() as conn:
        return {
            (str(no), day, str(amount))
            for no, day, amount in conn.execute(
                sa.text(
                    "SELECT receipt_no, receipt_date, amount FROM xx_receipts WHERE store_code = :s"
                ),
                {"s": store_code},
            )
        }


def _truth(store_code: str, first: dt.date, last: dt.date) -> set[tuple[str, dt.date, str]]:
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return {
        (r.receipt_no, r.receipt_date, str(r.amount))
        for day in days
        for r in xx.receipts_of(store_code, day)
    }


def _log(engine: sa.Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [
            (str(store), str(code), str(status))
            for store, code, status in conn.execute(
                sa.text(
                    "SELECT l.store_code, p.code, l.status FROM orders_sync_log l "
                    "JOIN pipelines p ON p.id = l.pipeline_id ORDER BY l.id"
                )
            )
        ]


def test_the_profiler_cli_syncs_a_third_source_and_alerts_on_its_failure(
    db_url: str, xx_engine: sa.Engine, xx_crm: xx.ReceiptCrm, xx_site: Path, xx_today: dt.date
) -> None:
    start = xx_today - dt.timedelta(days=HISTORY_DAYS)
    xx_crm.failing.add("X002")
    with webhook_receiver() as hook:
        env = _env(db_url, xx_crm, xx_site, ORDERS_SYNC_ALERT_WEBHOOK_URL=hook.url)
        done = _run(
            "orders_sync.run_profiler.main", ["--sync-group", "XX", "--window-days", "30"], env
        )
        assert done.returncode == 1, done.stderr
        (alert,) = hook.wait_for(1)
    assert _receipts(xx_engine, "X001") == _truth("X001", start, xx_today)
    assert _receipts(xx_engine, "X002") == set()
    statuses = _log(xx_engine)
    assert ("X001", xx.PIPELINE, "success") in statuses
    assert [s for s in statuses if s[0] == "X002"] == [("X002", xx.PIPELINE, "failed")]
    assert alert["overall_status"] == "failed"
    assert [(f["store_code"], f["pipeline"]) for f in alert["failures"]] == [("X002", xx.PIPELINE)]
    assert "X002" in alert["text"] and "receipts: " in alert["failures"][0]["error_message"]

    # The next run: the store heals, X001 re-runs only its overlap and xx_today.
    xx_crm.failing.clear()
    again = _run("orders_sync.run_profiler.main", ["--sync-group", "ALL"], env)
    assert again.returncode == 0, again.stderr
    assert _receipts(xx_engine, "X002") == _truth("X002", start, xx_today)


def test_the_standalone_entry_and_the_status_command_know_a_third_source(
    db_url: str, xx_engine: sa.Engine, xx_crm: xx.ReceiptCrm, xx_site: Path, xx_today: dt.date
) -> None:
    env = _env(db_url, xx_crm, xx_site)
    first = xx_today - dt.timedelta(days=5)
    done = _run(
        "orders_sync.pipelines",
        [xx.PIPELINE, "--store-code", "X001", "--from-date", first.isoformat()],
        env,
    )
    assert done.returncode == 0, done.stderr
    assert _receipts(xx_engine, "X001") == _truth("X001", first, xx_today)

    status = _run("orders_sync.status", ["--sync-group", "XX", "--format", "json"], env)
    assert status.returncode == 0, status.stderr
    stores = {s["store_code"]: s for s in json.loads(status.stdout)["stores"]}
    assert sorted(stores) == STORES
    assert stores["X001"]["pipeline"] == xx.PIPELINE
    assert stores["X001"]["missing_ranges"] == [
        [
            (xx_today - dt.timedelta(days=HISTORY_DAYS)).isoformat(),
            (first - dt.timedelta(1)).isoformat(),
        ]
    ]
    assert stores["X002"]["covered_through"] is None

    # A flag of another source's parts is refused, in one line.
    refused = _run("orders_sync.pipelines", [xx.PIPELINE, "--orders-only"], env)
    assert refused.returncode == 2 and "--orders-only" in refused.stderr


def test_the_dag_choices_come_from_the_entry_points_without_importing_a_source(
    xx_site: Path,
) -> None:
    code = (
        "import sys; from orders_sync.config import declared_sync_groups; "
        "print(declared_sync_groups(), "
        "[m for m in sys.modules if m.startswith(('orders_sync.sources', 'tests.'))])"
    )
    done = subprocess.run(
        [cli.PYTHON, "-c", code],
        env={**cli.child_env({}), "PYTHONPATH": f"{xx_site}:{REPOSITORY_ROOT}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "('TD', 'UC', 'XX', 'ALL') []"


def test_an_entry_point_not_named_after_its_sync_group_is_refused(
    tmp_path: Path, db_url: str
) -> None:
    site = xx.install_entry_point(tmp_path / "site")
    (entry,) = site.glob("*.dist-info/entry_points.txt")
    entry.write_text(entry.read_text().replace("XX =", "RECEIPTS ="))
    done = _run(
        "orders_sync.run_profiler.main",
        ["--dry-run"],
        {"PYTHONPATH": f"{site}:{REPOSITORY_ROOT}", "ORDERS_SYNC_DATABASE_URL": db_url},
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: the orders_sync source entry point 'RECEIPTS' "
        "(tests.support.third_source:SOURCE) declares the sync group 'XX': "
        "name the entry point after it."
    )
