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
        }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
