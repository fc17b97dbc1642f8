"""The Assets of the sources' data tables, and the run's changes that become asset events.

A downstream DAG schedules on fresh orders with the same URIs::

    from airflow.sdk import Asset
    @dag(schedule=[Asset("orders-sync://orders/<data table>")])

The profiler DAG's ``finish`` task lists the alias :data:`CHANGED_TABLES_ALIAS` in its outlets
and adds an event for each table whose rows this run inserted or changed — none for a table
the run left as it was (an unchanged re-fetch writes no row), so a downstream run means new
data. The tables' Assets are declared as ``finish``'s inlets (:func:`declared_table_assets`),
so Airflow knows them before the first event. Airflow is imported inside functions only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG file imports this module at parse time: keep it light
    import sqlalchemy as sa

ASSET_GROUP = "orders_sync"
CHANGED_TABLES_ALIAS = "orders_sync_changed_tables"
MAX_STORES_LISTED = 100


def asset_uri(table: str) -> str:
    """The URI of a data table's Asset."""
    return f"orders-sync://orders/{table}"


def table_asset(table: str) -> Any:
    """The Airflow ``Asset`` of a data table."""
    from airflow.sdk import Asset

    return Asset(name=table, uri=asset_uri(table), group=ASSET_GROUP)


def declared_table_assets() -> list[Any]:
    """The Assets of every registered data table, by the ``orders_sync.data_tables`` entry
    points' names (no source imported): ``finish`` lists them as its inlets — it reads those
    tables — so Airflow creates and activates them when it parses the DAG, and the events
    ``finish`` emits through the alias go to Assets it knows."""
    from orders_sync.config import declared_data_tables

    return [table_asset(table) for table in declared_data_tables()]


@dataclasses.dataclass(frozen=True)
class TableChange:
    """What one run changed in one data table."""

    table: str
    rows_inserted: int
    rows_updated: int
    stores: tuple[str, ...]
    from_date: dt.date | None
    to_date: dt.date | None

    def extra(self, run_id: str) -> dict[str, Any]:
        """The asset event's extra."""
        return {
            "run_id": run_id,
            "table": self.table,
            "rows_inserted": self.rows_inserted,
            "rows_updated": self.rows_updated,
            "store_count": len(self.stores),
            "stores": list(self.stores[:MAX_STORES_LISTED]),
            "from_date": self.from_date.isoformat() if self.from_date else None,
            "to_date": self.to_date.isoformat() if self.to_date else None,
        }


def changes_of_run(conn: sa.Connection, run_id: str, started_at: dt.datetime) -> list[TableChange]:
    """Per data table, the rows this run inserted or changed (``last_run_id``), one statement
    each; tables it did not change are left out."""
    import sqlalchemy as sa

    from orders_sync.sources import registry

    changes = []
    for data_table in registry.data_tables():
        table, day = data_table.name, data_table.date_column
        inserted, changed, stores, first, last = conn.execute(
            sa.text(
                f"""
                SELECT count(*) FILTER (WHERE first_seen_at >= :started), count(*),
                       array_agg(DISTINCT store_code), min({day}), max({day})
                FROM {table} WHERE last_run_id = :run_id
                """
            ),
            {"run_id": run_id, "started": started_at},
        ).one()
        if changed:
            changes.append(
                TableChange(
                    table=table,
                    rows_inserted=int(inserted),
                    rows_updated=int(changed) - int(inserted),
                    stores=tuple(sorted(stores or ())),
                    from_date=first,
                    to_date=last,
                )
            )
    return changes


def emit_asset_events(outlet_events: Any, changes: list[TableChange], run_id: str) -> None:
    """Add one asset event per changed table through the run's alias."""
    from airflow.sdk import AssetAlias

    for change in changes:
        outlet_events[AssetAlias(CHANGED_TABLES_ALIAS)].add(
            table_asset(change.table), extra=change.extra(run_id)
        )
