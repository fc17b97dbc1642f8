"""Parse the DAG folder with tripwires on every way to reach a database or the network.

Prints one line ``RESULT <json>``: import errors, tripwire hits, the modules of orders_sync
loaded at parse time, the DAG's attributes, and whether each conf of ``argv[1]`` (a JSON
list) passes the DAG's params schema.
"""

from __future__ import annotations

import copy
import json
import socket
import sys
from typing import Any

import airflow  # noqa: F401 - Airflow's own settings load before the tripwires
import httpx
import psycopg
import sqlalchemy
import sqlalchemy.engine

HITS: list[str] = []


def tripwire(name: str) -> Any:
    def explode(*args: Any, **kwargs: Any) -> Any:
        HITS.append(name)
        raise RuntimeError(f"{name} called while parsing the DAG")

    return explode


psycopg.connect = tripwire("psycopg.connect")
psycopg.Connection.connect = tripwire("psycopg.Connection.connect")
sqlalchemy.create_engine = tripwire("sqlalchemy.create_engine")
sqlalchemy.engine.create_engine = tripwire("sqlalchemy.engine.create_engine")
socket.socket.connect = tripwire("socket.connect")
socket.socket.connect_ex = tripwire("socket.connect_ex")
socket.create_connection = tripwire("socket.create_connection")
httpx.Client.send = tripwire("httpx.Client.send")


def main() -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.param import ParamsDict

    confs = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    bag = DagBag(dag_folder=sys.argv[2] if len(sys.argv) > 2 else None)
    result: dict[str, Any] = {
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dag_ids": sorted(bag.dag_ids),
        "hits": list(HITS),
        "orders_sync_modules": sorted(m for m in sys.modules if m.startswith("orders_sync")),
        "dags": {},
    }
    for dag_id in bag.dag_ids:
        dag = bag.dags[dag_id]
        timetable = dag.timetable
        params: ParamsDict = dag.params
        verdicts = []
        for conf in confs:
            candidate = copy.deepcopy(params)
            try:
                candidate.update(conf)
                candidate.validate()
                verdicts.append(True)
            except (ValueError, TypeError):
                verdicts.append(False)
        result["dags"][dag_id] = {
            "tags": sorted(dag.tags),
            "doc_md": dag.doc_md,
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "timetable": type(timetable).__name__,
            "cron": getattr(timetable, "expression", None),
            "timezone": str(getattr(timetable, "timezone", "")),
            "start_date_tz": str(dag.start_date.tzinfo) if dag.start_date else None,
            "params": {k: params.get_param(k).resolve(suppress_exception=True) for k in params},
            "param_schema": {k: params.get_param(k).schema for k in params},
            "conf_valid": verdicts,
            "dagrun_timeout": dag.dagrun_timeout,
            "tasks": {
                task.task_id: {
                    "retries": task.retries,
                    "pool": task.pool,
                    "trigger_rule": getattr(task.trigger_rule, "value", task.trigger_rule),
                    "map_index_template": getattr(task, "map_index_template", None),
                    "upstream": sorted(task.upstream_task_ids),
                    "type": type(task).__name__,
                    "execution_timeout": getattr(task, "execution_timeout", None),
                }
                for task in dag.tasks
            },
        }
    print("RESULT " + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
