"""Every registered source is complete: its table and ``pipelines`` row after the migrations,
its Airflow connection, its environment variables, and a simulator route for every part."""

from __future__ import annotations

import dataclasses
import datetime as dt
from importlib.metadata import entry_points
from typing import Any

import pytest
import sqlalchemy as sa

from orders_sync.airflow_support.connections import settings_from_airflow
from orders_sync.config import DATA_TABLE_ENTRY_POINTS, declared_data_tables, settings_from_env
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources import registry
from orders_sync.sources.spec import Source
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import third_source

SOURCES = registry.sources()
PG_FAMILY = {
    "VARCHAR": "text",
    "TEXT": "text",
    "INTEGER": "int4",
    "NUMERIC": "numeric",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamptz",
}
IDS = [source.sync_group for source in SOURCES]


def _family(column_type: Any) -> str:
    family = PG_FAMILY[type(column_type).__name__]
    if family == "timestamptz" and not column_type.timezone:
        return "timestamp"
    return family


@dataclasses.dataclass
class _Connection:
    host: str
    password: str
    schema: str | None = None
    login: str | None = None
    port: int | None = None
    conn_type: str = "http"
    extra_dejson: dict[str, Any] = dataclasses.field(default_factory=dict)


def test_the_built_in_sources_are_registered() -> None:
    assert [(s.sync_group, s.pipeline_code) for s in SOURCES] == [
        ("TD", "td_orders_sync"),
        ("UC", "uc_orders_sync"),
    ]
    assert registry.sync_group_choices() == ("TD", "UC", "ALL")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_each_source_declares_its_data_tables_for_the_dag_assets(source: Source) -> None:
    """The ``orders_sync.data_tables`` entry points (the DAG's Assets at parse time) name
    exactly the registered sources' tables, each pointing at its declaration."""
    declared = {e.name: e for e in entry_points(group=DATA_TABLE_ENTRY_POINTS)}
    assert set(declared_data_tables()) == {table.name for table in registry.data_tables()}
    for table in source.tables:
        assert declared[table.name].load() is table


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_each_source_has_its_tables_and_pipeline_row(engine: sa.Engine, source: Source) -> None:
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        (found,) = conn.execute(
            sa.text("SELECT count(*) FROM pipelines WHERE code = :c"), {"c": source.pipeline_code}
        ).one()
    assert found == 1
    for table in source.tables:
        columns = {c["name"]: c["type"] for c in inspector.get_columns(table.name)}
        assert set(table.copy_columns) | {"last_run_id", "first_seen_at"} <= set(columns)
        declared = dict(zip((*table.copy_columns, "last_run_id"), table.types, strict=True))
        found = {name: _family(columns[name]) for name in declared}
        assert found == declared  # the row declaration and the migration agree, column by column
        unique = [u["column_names"] for u in inspector.get_unique_constraints(table.name)]
        assert ["store_code", table.key] in unique
        indexes = [i["column_names"] for i in inspector.get_indexes(table.name)]
        assert ["store_code", table.date_column] in indexes


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_each_source_is_configured_by_its_variables_and_its_connection(source: Source) -> None:
    env = {source.base_url_variable: "http://env.test", source.token_variable: "env-token"}
    assert settings_from_env(env).endpoint(source.sync_group).base_url == "http://env.test"
    conn = _Connection(host="https://crm.test/api", password="conn-token")
    settings = settings_from_airflow(
        lambda conn_id: conn if conn_id == source.connection_id else None, env
    )
    endpoint = settings.endpoint(source.sync_group)
    assert (endpoint.base_url, endpoint.token) == ("https://crm.test/api", "conn-token")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_the_simulator_serves_every_part_of_each_source(source: Source) -> None:
    with SimulatorServer() as sim:
        day = sim.now().date() - dt.timedelta(days=30)
        client = source.client(sim.base_url, "any-token", max_attempts=1)
        try:
            for part in source.parts:
                pages = list(getattr(client, part.pages)(f"{source.sync_group}01", day, day))
                assert pages and all(isinstance(page, list) for page in pages)
        finally:
            client.close()


def test_a_clashing_source_is_refused_in_one_sentence() -> None:
    clash = dataclasses.replace(third_source.SOURCE, pipeline_code="td_orders_sync")
    refused = pytest.raises(ConfigurationError, match="share the pipeline code 'td_orders_sync'")
    with refused, registry.registered(clash):
        pass
    assert "XX" not in registry.sync_groups()


def test_a_registered_source_is_in_use_only_for_its_block() -> None:
    with registry.registered(third_source.SOURCE):
        assert registry.sync_group_choices() == ("TD", "UC", "XX", "ALL")
        assert registry.for_pipeline("xx_orders_sync") is third_source.SOURCE
        assert "xx_receipts" in [t.name for t in registry.data_tables()]
    assert registry.sync_groups() == ("TD", "UC")
