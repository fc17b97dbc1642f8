"""
### orders_sync_downstream_example

A downstream DAG scheduled on fresh TD orders: the profiler DAG emits an asset event for
`orders-sync://orders/td_orders` whenever a run inserted or changed rows of `td_orders`
(none when nothing changed). Its task logs each event's extra (run_id, rows, stores, dates).
A development example (`make airflow` loads it); copy the pattern into your own DAGs.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

TD_ORDERS = Asset(name="td_orders", uri="orders-sync://orders/td_orders", group="orders_sync")


@dag(
    dag_id="orders_sync_downstream_example",
    schedule=[TD_ORDERS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["orders_sync", "example"],
    doc_md=__doc__,
    default_args={"retries": 1},
)
def orders_sync_downstream_example() -> None:
    @task(inlets=[TD_ORDERS])
    def report_new_orders(triggering_asset_events=None) -> list:
        extras = [event.extra for event in (triggering_asset_events or {}).get(TD_ORDERS, [])]
        for extra in extras:
            print(f"fresh td_orders: {extra}")
        return extras

    report_new_orders()


orders_sync_downstream_example()
