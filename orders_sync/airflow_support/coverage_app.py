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
from urllib.parse import quote

from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

from orders_sync.exceptions import OrdersSyncError
from orders_sync.sources import registry

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


def coverage_payload(*, days: int, sync_group: str, store_code: str | None) -> dict[str, Any]:
    """The page's data: the status JSON, the grid's days, each store's day states and a link
    to the mapped ``sync_store`` task of its latest batch (``orders_sync_run_batches``)."""
    from orders_sync.airflow_support.connections import settings_from_airflow
    from orders_sync.db.engine import get_engine
    from orders_sync.db.repositories.run_batches import latest_batches
    from orders_sync.status.coverage import day_state
    from orders_sync.status.load import read_statuses

    settings = settings_from_airflow(_core_connection)
    today = settings.today()
    with get_engine(settings).connect() as conn:
        statuses = read_statuses(conn, today=today, sync_group=sync_group, store_code=store_code)
        batches = latest_batches(conn)
    grid = [today - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    stores = []
    for status in statuses:
        entry = status.to_json()
        entry["cells"] = "".join(
            STATE_CODES[day_state(status, day)] if day >= status.store.start_date else " "
            for day in grid
        )
        entry["task_url"] = _task_url(batches.get((status.store.store_code, status.pipeline)))
        stores.append(entry)
    return {
        "today": today.isoformat(),
        "timezone": settings.pipeline_timezone,
        "days": [day.isoformat() for day in grid],
        "stores": stores,
    }


def _task_url(batch: tuple[str, int] | None) -> str | None:
    """The Airflow UI address (relative to the page) of a batch's mapped task."""
    if batch is None:
        return None
    owner, index = batch
    dag_id, _, dag_run_id = owner.partition("/")
    return f"../dags/{dag_id}/runs/{quote(dag_run_id, safe='')}/tasks/sync_store/mapped/{index}"


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
        if sync_group not in registry.sync_group_choices():
            raise HTTPException(
                400, f"sync_group must be one of {', '.join(registry.sync_group_choices())}"
            )
        try:
            return coverage_payload(
                days=days,
                sync_group=sync_group,
                store_code=store_code or None,
            )
        except OrdersSyncError as exc:
            raise HTTPException(400, str(exc)) from exc

    return app
