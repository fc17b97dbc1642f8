"""Re-running a window: unchanged data changes nothing; newer data changes exactly its rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from orders_sync.db.repositories import run_summaries
from orders_sync.pipelines.td_orders_sync import TdOrdersSync
from orders_sync.pipelines.uc_orders_sync import UcOrdersSync
from orders_sync.pipelines.window import WindowRequest, WindowResult
from orders_sync.sources.spec import DataTable
from orders_sync.sources.td import TD_ORDERS, TD_SALES
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc import UC_ORDERS
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support.data_probes import row_versions

FROM = dt.date(2026, 1, 1)
TO = dt.date(2026, 1, 8)


def _new_run(engine: sa.Engine) -> str:
    rid = run_summaries.new_run_id("test")
    with engine.begin() as conn:
        run_summaries.start_run(
            conn, run_id=rid, pipeline_name="test", run_env="test", report_date=TO
        )
    return rid


def _table(engine: sa.Engine, table: DataTable) -> dict[tuple[str, str], dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT *, xmin::text AS xmin FROM {table.name}")).all()
    return {(r.store_code, getattr(r, table.key)): dict(r._mapping) for r in rows}


def _keyed_by_source_key(sim: SimulatorServer, kind: str, store: str) -> dict[str, Any]:
    if kind == "td":
        orders = {o.order_number: o for o in sim.truth_td_orders(store, FROM, TO)}
        sales = {s.transaction_id: s for s in sim.truth_td_sales(store, FROM, TO)}
        return {**orders, **sales}
    return {g.invoice_no: g for g in sim.truth_uc_gst(store, FROM, TO)}


@pytest.fixture(params=["td", "uc"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _run(
    kind: str, engine: sa.Engine, td_client: TdClient, uc_client: UcClient, run_id: str
) -> WindowResult:
    if kind == "td":
        store, pipeline = "A001", TdOrdersSync(engine, td_client)
    else:
        store, pipeline = "UC10", UcOrdersSync(engine, uc_client)  # type: ignore[assignment]
    return pipeline.run_window(WindowRequest(store, None, FROM, TO, run_id, "test"))


def _tables(kind: str) -> tuple[DataTable, ...]:
    return (TD_ORDERS, TD_SALES) if kind == "td" else (UC_ORDERS,)


def test_same_window_twice_changes_no_row(
    kind: str,
    seeded: sa.Engine,
    run_id: str,
    td_client: TdClient,
    uc_client: UcClient,
) -> None:
    first = _run(kind, seeded, td_client, uc_client, run_id)
    before = {t.name: _table(seeded, t) for t in _tables(kind)}
    second = _run(kind, seeded, td_client, uc_client, _new_run(seeded))
    after = {t.name: _table(seeded, t) for t in _tables(kind)}

    assert first.status == second.status == "success"
    assert first.rows_inserted == first.rows_fetched > 0
    assert (second.rows_fetched, second.rows_inserted, second.rows_updated) == (
        first.rows_fetched,
        0,
        0,
    )
    assert after == before  # every column, xmin (row version), last_synced_at, last_run_id


def test_newer_source_data_updates_exactly_the_changed_rows(
    kind: str,
    seeded: sa.Engine,
    run_id: str,
    simulator: SimulatorServer,
    td_client: TdClient,
    uc_client: UcClient,
) -> None:
    store = "A001" if kind == "td" else "UC10"
    _run(kind, seeded, td_client, uc_client, run_id)
    old = _keyed_by_source_key(simulator, kind, store)
    versions_before: dict[tuple[str, str], str] = {}
    with seeded.connect() as conn:
        for table in _tables(kind):
            versions_before |= row_versions(conn, table)

    simulator.advance_clock(dt.timedelta(days=2))
    new = _keyed_by_source_key(simulator, kind, store)
    changed = {k for k in new if k in old and new[k] != old[k]}
    added = set(new) - set(old)
    assert changed and added, "the simulator should change and add rows within two days"

    second_run = _new_run(seeded)
    result = _run(kind, seeded, td_client, uc_client, second_run)

    assert (result.rows_inserted, result.rows_updated) == (len(added), len(changed))
    versions_after: dict[tuple[str, str], str] = {}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    with seeded.connect() as conn:
        for table in _tables(kind):
            versions_after |= row_versions(conn, table)
            rows |= _table(seeded, table)
    new_versions = {k[1] for k in versions_after if versions_after[k] != versions_before.get(k)}
    assert new_versions == changed | added
    touched_by_second_run = {k[1] for k, r in rows.items() if r["last_run_id"] == second_run}
    assert touched_by_second_run == changed | added


def test_late_data_is_picked_up_by_a_rerun_after_the_clock_moved(
    seeded: sa.Engine,
    run_id: str,
    simulator: SimulatorServer,
    td_client: TdClient,
) -> None:
    pipeline = TdOrdersSync(seeded, td_client)
    request = WindowRequest("A001", "CC1", FROM, TO, run_id, "test")
    pipeline.run_window(request)
    statuses_before = {k[1]: r["order_status"] for k, r in _table(seeded, TD_ORDERS).items()}

    simulator.advance_clock(dt.timedelta(days=3))
    result = pipeline.run_window(dataclasses.replace(request, run_id=_new_run(seeded)))

    stored = {k[1]: r for k, r in _table(seeded, TD_ORDERS).items()}
    truth = {o.order_number: o for o in simulator.truth_td_orders("A001", FROM, TO)}
    assert set(stored) == set(truth)
    for number, order in truth.items():
        row = stored[number]
        assert {f: row[f] for f in TD_ORDERS.fields} == dataclasses.asdict(order), number
    late = set(truth) - set(statuses_before)
    moved = {n for n in statuses_before if truth[n].order_status != statuses_before[n]}
    assert late, "expected orders entered late for days already fetched"
    assert moved, "expected status changes (Booked -> Delivered, ...)"
    assert result.status == "success"
    sales_truth = simulator.truth_td_sales("A001", FROM, TO)
    assert {k[1] for k in _table(seeded, TD_SALES)} == {s.transaction_id for s in sales_truth}
