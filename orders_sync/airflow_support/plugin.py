"""orders_sync's Airflow plugin: the coverage page, and one log line per finished DAG run.

Registered through the ``airflow.plugins`` entry point of the package (``pyproject.toml``):
an Airflow with orders_sync installed lists it in ``airflow plugins``, no file copied. Like
:mod:`.notifier`, this module imports Airflow at the top; nothing of orders_sync imports it.

**Coverage page** (``fastapi_apps`` + ``external_views``): ``/orders_sync/`` in the api-server,
in the navigation and on the DAG's page — the chain in numbers (each a filter), every store +
pipeline worst first, 50 to a page, its failing streak as one fact, a day grid coloured like
Airflow's grid with the newest days in view, and "Sync now" for a store
(:mod:`orders_sync.airflow_support.coverage_app`). It requires Airflow's login: a request
without a valid Airflow session or token is refused (401/403); "Sync now" also needs the
permission to trigger the DAG.

**Listener.**
A listener on DAG-run state changes (it runs in the scheduler). For
``orders_sync_run_profiler`` runs it logs, on one line under the logger ``orders_sync.airflow``,
the run id, final state, wall time, conf and Airflow's reason — so the scheduler log (and
whatever ships it to alerting) shows each profiler run's outcome without opening the UI.
It reads only the DAG run it is handed: no query, no I/O, nothing that can slow the
scheduler loop. The per-window truth stays in ``pipeline_run_summaries``.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

DAG_ID = "orders_sync_run_profiler"
log = logging.getLogger("orders_sync.airflow")


def describe_dag_run(dag_run: Any, msg: str) -> str:
    """``orders_sync_run_profiler <run_id> <state> in <s>s conf=<json>: <msg>``."""
    seconds = (
        f"{(dag_run.end_date - dag_run.start_date).total_seconds():.1f}s"
        if dag_run.start_date and dag_run.end_date
        else "?s"
    )
    conf = json.dumps(dag_run.conf or {}, sort_keys=True, default=str)
    state = getattr(dag_run.state, "value", dag_run.state)
    return f"{dag_run.dag_id} {dag_run.run_id} {state} in {seconds} conf={conf}: {msg}"


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    """Log a finished, successful profiler run."""
    if dag_run.dag_id == DAG_ID:
        log.info(describe_dag_run(dag_run, msg))


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    """Log a failed profiler run (a window failed or was partial, or a task crashed)."""
    if dag_run.dag_id == DAG_ID:
        log.error(describe_dag_run(dag_run, msg))


def _fastapi_apps() -> list[dict[str, Any]]:
    """The coverage app, where a FastAPI api-server can load it (not in every process)."""
    try:
        from orders_sync.airflow_support.coverage_app import URL_PREFIX, create_app
    except ImportError as exc:  # a process without the API server's dependencies
        log.debug("orders_sync coverage page not loaded: %s", exc)
        return []
    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "orders_sync coverage"}]


class OrdersSyncPlugin(AirflowPlugin):
    """Registers the coverage page and the DAG-run listener above."""

    name = "orders_sync"
    listeners = [sys.modules[__name__]]
    fastapi_apps = _fastapi_apps()
    external_views = [
        {
            "name": "Orders coverage",
            "href": "orders_sync/",
            "destination": "nav",
            "category": "browse",
            "url_route": "orders_sync_coverage",
        },
        {
            "name": "Coverage",
            "href": "orders_sync/",
            "destination": "dag",
            "url_route": "orders_sync_dag_coverage",
        },
    ]
