"""The coverage page in the Airflow UI: a FastAPI app for the orders_sync plugin.

- ``GET <prefix>/`` — the page: the chain in numbers (each number a filter), every store +
  pipeline worst first, 50 to a page, a day grid whose newest days stay in view, a failing
  streak told as one fact, and a "Sync now" button per store.
- ``GET <prefix>/coverage.json`` — its data (:mod:`orders_sync.status.page_payload`), gzip
  compressed, and whether the signed-in user may trigger the DAG.
- ``POST <prefix>/sync`` ``{"store_code": "A001"}`` — triggers ``orders_sync_run_profiler``
  with ``{"store_code": …}`` as the signed-in user (Airflow's own trigger endpoint, called
  with the user's identity: the run is theirs, with a note and an audit-log entry): the same
  automatic decision the daily run makes, for one store. It needs Airflow's permission to
  trigger the DAG (POST on its runs); without it, 403.

Every route requires Airflow's login: the caller's Airflow session cookie or bearer token is
checked by Airflow's own ``requires_access_dag`` (read access to the profiler DAG), because
Airflow authenticates no plugin app by itself. The POST takes JSON only, so a cross-site form
cannot send it. The orders database is the DAG's: the ``orders_sync_db`` connection, else
``ORDERS_SYNC_DATABASE_URL``. An error answers with the one line the command line would
print (never a credential): 503 when the database cannot be reached, 400 for bad input.

Unlike the rest of :mod:`orders_sync.airflow_support` this module imports FastAPI and
Airflow's API server at the top: only the plugin (in the api-server) imports it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from orders_sync.exceptions import DatabaseUnavailableError, OrdersSyncError

DAG_ID = "orders_sync_run_profiler"
URL_PREFIX = "/orders_sync"
MAX_DAYS = 366
DEFAULT_DAYS = 60


def _core_connection(conn_id: str) -> Any:
    """A connection as the api-server sees it (secrets backends, env, metadata DB)."""
    from airflow.models.connection import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return None


def _orders_engine() -> tuple[Any, sa.Engine]:
    """The settings and a checked engine of the orders database.

    Raises:
        DatabaseUnavailableError: it does not answer (one sentence, no credential).
        ConfigurationError: the connection gives no usable URL.
    """
    from orders_sync.airflow_support.connections import settings_from_airflow
    from orders_sync.db.engine import check_connection, get_engine

    settings = settings_from_airflow(_core_connection)
    engine = get_engine(settings)
    check_connection(engine)
    return settings, engine


def coverage_payload(*, days: int, max_days_behind: int) -> dict[str, Any]:
    """The page's data (:func:`orders_sync.status.page_payload.page_payload`) for every store,
    each with its latest mapped ``sync_store`` (``orders_sync_run_batches``)."""
    from orders_sync.db.repositories.run_batches import latest_batches
    from orders_sync.status.load import read_statuses
    from orders_sync.status.page_payload import page_payload

    settings, engine = _orders_engine()
    today = settings.today()
    with engine.connect() as conn:
        statuses = read_statuses(conn, today=today)
        batches = latest_batches(conn)
    return page_payload(
        statuses,
        today=today,
        timezone=settings.pipeline_timezone,
        days=days,
        max_days_behind=max_days_behind,
        batches=batches,
    )


def runnable_store(store_code: str) -> str:
    """``store_code`` when the profiler would run it.

    Raises:
        UsageError: no such runnable store (the command line's sentence).
    """
    from orders_sync.run_profiler.load_plan import select_stores
    from orders_sync.run_profiler.options import ProfilerOptions

    _, engine = _orders_engine()
    with engine.connect() as conn:
        [store] = select_stores(conn, ProfilerOptions(env="status", store_code=store_code))
    return store.store_code


def _http_error(exc: Exception) -> HTTPException:
    """The one line the command line would print, as an HTTP error."""
    from orders_sync.cli import describe_database_error

    if isinstance(exc, DatabaseUnavailableError):
        return HTTPException(503, str(exc))
    if isinstance(exc, OrdersSyncError):
        return HTTPException(400, str(exc))
    if isinstance(exc, sa.exc.DBAPIError):
        message, _ = describe_database_error(exc)
        return HTTPException(503, f"the orders database failed: {message}")
    raise exc


def _can_trigger(user: Any) -> bool:
    return bool(
        get_auth_manager().is_authorized_dag(
            method="POST",
            access_entity=DagAccessEntity.RUN,
            details=DagDetails(id=DAG_ID),
            user=user,
        )
    )


class SyncNow(BaseModel):
    """The body of ``POST sync``."""

    store_code: str = Field(min_length=1, max_length=8)


def trigger_store_run(store_code: str, request: Request, user: Any, session: Any) -> dict[str, Any]:
    """Trigger the DAG for one store through Airflow's own trigger endpoint function (its
    checks, its run id, the user as the run's triggering user)."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import TriggerDAGRunPostBody
    from airflow.api_fastapi.core_api.routes.public.dag_run import trigger_dag_run
    from airflow.models.dag import DagModel
    from airflow.models.dagbag import DBDagBag
    from airflow.models.log import Log

    body = TriggerDAGRunPostBody(
        logical_date=None,
        conf={"store_code": store_code},
        note=f"Sync now of {store_code} from the orders_sync coverage page",
    )
    # the endpoint function returns the DagRun row (FastAPI turns it into its response model)
    run: Any = trigger_dag_run(
        dag_id=DAG_ID, body=body, dag_bag=DBDagBag(), user=user, session=session, request=request
    )
    # Airflow's audit log, as its own trigger endpoint's action logging would write it
    session.add(
        Log(
            event="trigger_dag_run",
            owner=user.get_name(),
            owner_display_name=user.get_name(),
            dag_id=DAG_ID,
            run_id=run.run_id,
            extra=json.dumps(
                {"conf": {"store_code": store_code}, "via": "orders_sync coverage page"}
            ),
        )
    )
    paused = session.scalar(sa.select(DagModel.is_paused).where(DagModel.dag_id == DAG_ID))
    return {
        "store_code": store_code,
        "dag_run_id": run.run_id,
        "state": str(getattr(run.state, "value", run.state)),
        "paused": bool(paused),
        "url": f"../dags/{DAG_ID}/runs/{quote(run.run_id, safe='')}",
    }


def create_app() -> FastAPI:
    """The plugin's app; every route behind Airflow's login (read access to the DAG)."""
    app = FastAPI(
        title="orders_sync coverage",
        dependencies=[Depends(requires_access_dag("GET", param_dag_id=DAG_ID))],
    )
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return resources.files("orders_sync.airflow_support").joinpath("coverage.html").read_text()

    @app.get("/coverage.json")
    def coverage(
        user: GetUserDep,
        days: int = Query(DEFAULT_DAYS, ge=1, le=MAX_DAYS),
        max_days_behind: int = Query(1, ge=0),
    ) -> dict[str, Any]:
        try:
            payload = coverage_payload(days=days, max_days_behind=max_days_behind)
        except (OrdersSyncError, sa.exc.DBAPIError) as exc:
            raise _http_error(exc) from exc
        payload["can_sync"] = _can_trigger(user)
        return payload

    @app.post(
        "/sync",
        dependencies=[
            Depends(
                requires_access_dag("POST", access_entity=DagAccessEntity.RUN, param_dag_id=DAG_ID)
            )
        ],
    )
    def sync_now(
        body: SyncNow, request: Request, user: GetUserDep, session: SessionDep
    ) -> dict[str, Any]:
        try:
            store_code = runnable_store(body.store_code)
        except (OrdersSyncError, sa.exc.DBAPIError) as exc:
            raise _http_error(exc) from exc
        return trigger_store_run(store_code, request, user, session)

    return app
