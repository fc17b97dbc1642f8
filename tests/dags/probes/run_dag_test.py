"""``dag.test(run_conf=...)`` of the profiler DAG; prints ``RESULT <json>``.

Usage: run_dag_test.py '<conf json>'. Airflow's metadata is whatever ``AIRFLOW__DATABASE__*``
says (the tests give a migrated SQLite file); the orders database and the CRMs come from
the environment, as in a deployment without connections.
"""

from __future__ import annotations

import json
import sys
from typing import Any

DAG_ID = "orders_sync_run_profiler"


def _asset_events(run_id: str) -> list[dict[str, Any]]:
    """The asset events the run emitted: each one's asset URI and extra."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.uri, AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_dag_id == DAG_ID, AssetEvent.source_run_id == run_id)
            .order_by(AssetModel.uri)
        ).all()
    return [{"uri": uri, "extra": extra} for uri, extra in rows]


def main() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    if bag.import_errors:
        print(
            "RESULT "
            + json.dumps({"import_errors": {str(k): v for k, v in bag.import_errors.items()}})
        )
        return
    dag = bag.get_dag(DAG_ID)
    result: dict[str, Any]
    try:
        run = dag.test(run_conf=json.loads(sys.argv[1]))
    except Exception as exc:  # a conf refused before any run
        result = {"refused": f"{type(exc).__name__}: {exc}"}
    else:
        result = {
            "state": str(run.state),
            "tis": [
                {
                    "task_id": ti.task_id,
                    "map_index": ti.map_index,
                    "label": ti.rendered_map_index,
                    "state": str(ti.state),
                }
                for ti in run.get_task_instances()
            ],
            "asset_events": _asset_events(run.run_id),
        }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
