"""The coverage page in the Airflow UI: a FastAPI app for the orders_sync plugin.

``GET <prefix>/`` is the page (a sortable table of every store + pipeline and a day grid
coloured like Airflow's grid, each failing cell showing its error); ``GET
<prefix>/coverage.json`` its data — the status command's JSON (:mod:`orders_sync.status`)
plus each day's state and a link to the store's latest mapped ``sync_store`` task.

Every route requires Airflow's login: the caller's Airflow session cookie or bearer token is
checked by Airflow's own ``requires_access_dag`` (read access to the profiler DAG), because
Airflow authenticates no plugin app by itself. The orders database is the DAG's: the
``orders_sync_db`` connection, else ``ORDERS_SYNC_DATABASE_URL``.

Unlike the rest of :mod:`orders_sync.airflow_support` this module imports FastAPI and
Airflow's API server at the top: only the plugin (in the api-server) imports it.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

from orders_sync.domain import SYNC_GROUP_CHOICES
from orders_sync.exceptions import OrdersSyncError

DAG_ID = "orders_sync_run_profiler"
URL_PREFIX = "/orders_sync"
STATE_CODES = {"covered": "c", "failing": "f", "missing": "m", "running": "r"}
MAX_DAYS = 120


def _core_connection(conn_id: str) -> Any:
    """A connection as the api-server sees it (secrets backends, env, metadata DB)."""
    from airflow.models.connection import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return None


def _latest_task_urls() -> dict[str, str]:
    """``{"A001 / td_orders_sync": url}`` of each store's latest mapped ``sync_store`` task."""
    import sqlalchemy as sa
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    urls: dict[str, str] = {}
    ti: Any = TaskInstance  # the ORM model's typing is not SQLAlchemy 2's
    with create_session() as session:
        rows = session.execute(
            sa.select(ti.rendered_map_index, ti.run_id, ti.map_index)
            .where(ti.dag_id == DAG_ID, ti.task_id == "sync_store")
            .order_by(ti.start_date.desc().nulls_last())
            .limit(20_000)
        ).all()
    for label, run_id, map_index in rows:
        if label and label not in urls:
            urls[label] = f"../dags/{DAG_ID}/runs/{run_id}/tasks/sync_store/mapped/{map_index}"
    return urls


def coverage_payload(
    *, days: int, sync_group: str, store_code: str | None, task_urls: dict[str, str]
) -> dict[str, Any]:
    """The page's data: the status JSON, the grid's days and each store's day states."""
    from orders_sync.airflow_support.connections import settings_from_airflow
    from orders_sync.db.engine import get_engine
    from orders_sync.status.coverage import day_state
    from orders_sync.status.load import read_statuses

    settings = settings_from_airflow(_core_connection)
    today = settings.today()
    with get_engine(settings).connect() as conn:
        statuses = read_statuses(conn, today=today, sync_group=sync_group, store_code=store_code)
    grid = [today - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    stores = []
    for status in statuses:
        entry = status.to_json()
        entry["cells"] = "".join(
            STATE_CODES[day_state(status, day)] if day >= status.store.start_date else " "
            for day in grid
        )
        entry["task_url"] = task_urls.get(f"{status.store.store_code} / {status.pipeline}")
        stores.append(entry)
    return {
        "today": today.isoformat(),
        "timezone": settings.pipeline_timezone,
        "days": [day.isoformat() for day in grid],
        "stores": stores,
    }


def create_app() -> FastAPI:
    """The plugin's app; every route behind Airflow's login (read access to the DAG)."""
    app = FastAPI(
        title="orders_sync coverage",
        dependencies=[Depends(requires_access_dag("GET", param_dag_id=DAG_ID))],
    )

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return resources.files("orders_sync.airflow_support").joinpath("coverage.html").read_text()

    @app.get("/coverage.json")
    def coverage(
        days: int = Query(30, ge=1, le=MAX_DAYS),
        sync_group: str = Query("ALL"),
        store_code: str | None = Query(None),
    ) -> dict[str, Any]:
        if sync_group not in SYNC_GROUP_CHOICES:
            raise HTTPException(400, f"sync_group must be one of {', '.join(SYNC_GROUP_CHOICES)}")
        try:
            return coverage_payload(
                days=days,
                sync_group=sync_group,
                store_code=store_code or None,
                task_urls=_latest_task_urls(),
            )
        except OrdersSyncError as exc:
            raise HTTPException(400, str(exc)) from exc

    return app
