"""``dag.test()`` of the profiler DAG over a third source that only the tests declare (see
:mod:`tests.integration.test_third_source`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from orders_sync.config import REPOSITORY_ROOT
from tests.dags.conftest import airflow_env, run_probe
from tests.integration.test_third_source import (
    HISTORY_DAYS,
    STORES,
    _log,
    _receipts,
    _truth,
)
from tests.support import third_source as xx


def test_dag_test_runs_a_third_source(
    db_url: str,
    xx_engine: sa.Engine,
    xx_crm: xx.ReceiptCrm,
    xx_site: Path,
    xx_today: dt.date,
    sqlite_airflow_home: Path,
) -> None:
    env = airflow_env(
        sqlite_airflow_home,
        ORDERS_SYNC_DATABASE_URL=db_url,
        XX_API_BASE_URL=xx_crm.base_url,
        XX_API_TOKEN=xx.TOKEN,
    )
    env["PYTHONPATH"] = f"{xx_site}:{REPOSITORY_ROOT}"
    result = run_probe("run_dag_test.py", [json.dumps({"sync_group": "XX"})], env)
    assert result.get("state") == "success", result
    start = xx_today - dt.timedelta(days=HISTORY_DAYS)
    for store in STORES:
        assert _receipts(xx_engine, store) == _truth(store, start, xx_today)
    assert {s for s in _log(xx_engine)} == {
        ("X001", xx.PIPELINE, "success"),
        ("X002", xx.PIPELINE, "success"),
    }
