"""What a window leaves behind when things go wrong: pages atomic, the log never lies."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
import sqlalchemy as sa

from orders_sync.db.engine import dispose_engines
from orders_sync.pipelines.td_orders_sync import TdOrdersSync
from orders_sync.pipelines.window import WindowRequest
from orders_sync.sources.errors import PageContext, SourceDataError
from orders_sync.sources.td import TD_ORDERS
from orders_sync_devtools import embedded_postgres as embedded
from tests.integration.pipelines.fakes import ScriptedTdSource, order
from tests.support.data_probes import count_rows

FROM = dt.date(2026, 1, 5)


def _request(run_id: str) -> WindowRequest:
    return WindowRequest("A001", "CC1", FROM, FROM, run_id, "test")


def _status(engine: sa.Engine, log_id: int | None) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text("SELECT status FROM orders_sync_log WHERE id = :id"), {"id": log_id}
            ).scalar_one()
        )


def test_running_row_is_committed_before_the_first_source_request(
    seeded: sa.Engine, run_id: str
) -> None:
    seen: list[tuple[str, object]] = []

    def look(_: int) -> None:
        # A separate connection sees only committed rows.
        with psycopg.connect(seeded.url.set(drivername="postgresql").render_as_string(False)) as c:
            seen.extend(c.execute("SELECT status, run_id FROM orders_sync_log").fetchall())

    source = ScriptedTdSource([[order(1)]], before_page=look)
    result = TdOrdersSync(seeded, source, orders_only=True).run_window(_request(run_id))
    assert seen == [("running", run_id)]
    assert result.status == "success"


FAILING_PAGES = [
    (
        [[order(1), order(2)], [order(3), order(4, mobile="9" * 25)]],
        {1: 2, 5000: 0},  # one page per transaction keeps page 1; one batch loses both
        "orders: StringDataRightTruncation: value too long for type character varying(20)",
    ),
    (
        [
            [order(1)],
            [order(2)],
            SourceDataError(
                "source data error: field 'net_amount' of row 0 must be a decimal string",
                context=PageContext("A001", "/reports/order-report", FROM, FROM, 3),
                field="net_amount",
            ),
        ],
        {1: 2, 5000: 2},  # whole pages received before the source failed are written
        "orders: SourceDataError: source data error: field 'net_amount'",
    ),
    ([RuntimeError("boom")], {1: 0, 5000: 0}, "orders: RuntimeError: boom"),
]


@pytest.mark.parametrize("batch_rows", [1, 5000], ids=["page-per-transaction", "batched"])
@pytest.mark.parametrize(
    ("pages", "stored", "error_start"),
    FAILING_PAGES,
    ids=["db-rejects-page-2", "source-data-error-on-page-3", "bug-before-first-page"],
)
def test_a_failing_page_leaves_no_half_page_and_keeps_earlier_pages(
    pages: list[list[object] | Exception],
    stored: dict[int, int],
    error_start: str,
    batch_rows: int,
    seeded: sa.Engine,
    run_id: str,
) -> None:
    source = ScriptedTdSource(pages)  # type: ignore[arg-type]
    result = TdOrdersSync(seeded, source, batch_rows=batch_rows).run_window(_request(run_id))
    with seeded.connect() as conn:
        assert count_rows(conn, TD_ORDERS) == stored[batch_rows]
        pulled = conn.execute(
            sa.text("SELECT orders_pulled_at, sales_pulled_at FROM orders_sync_log")
        ).one()
    assert (result.status, _status(seeded, result.log_id)) == ("failed", "failed")
    assert (result.rows_inserted, tuple(pulled)) == (stored[batch_rows], (None, None))
    assert result.rows_fetched == sum(len(p) for p in pages if isinstance(p, list))
    assert result.error_message is not None
    assert result.error_message.startswith(error_start)
    assert result.error_message.endswith("(sales not attempted)")
    assert "INSERT" not in result.error_message and "999999" not in result.error_message


def test_database_gone_mid_window_leaves_running_row_and_does_not_raise(
    seeded: sa.Engine, run_id: str, pg_server: embedded.EmbeddedServer
) -> None:
    name = seeded.url.database
    assert name is not None

    def vanish(index: int) -> None:
        if index != 1:
            return
        with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{name}_gone"')

    source = ScriptedTdSource([[order(1)], [order(2)]], before_page=vanish)
    try:
        result = TdOrdersSync(seeded, source, batch_rows=1).run_window(_request(run_id))
    finally:
        dispose_engines()
        with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}_gone" RENAME TO "{name}"')
    assert result.status == "failed"
    assert result.error_message is not None
    assert result.error_message.startswith("orders: OperationalError:")
    assert _status(seeded, result.log_id) == "running"  # closed later by the profiler
    with seeded.connect() as conn:
        assert count_rows(conn, TD_ORDERS) == 1  # page 1 was committed and stays


def test_an_interrupt_closes_the_window_as_failed_and_propagates(
    seeded: sa.Engine, run_id: str
) -> None:
    source = ScriptedTdSource([[order(1)], KeyboardInterrupt()])
    with pytest.raises(KeyboardInterrupt):
        TdOrdersSync(seeded, source, batch_rows=1).run_window(_request(run_id))
    with seeded.connect() as conn:
        row = conn.execute(sa.text("SELECT status, error_message FROM orders_sync_log")).one()
        stored = count_rows(conn, TD_ORDERS)
    assert (row.status, row.error_message, stored) == (
        "failed",
        "window: KeyboardInterrupt: (no message)",
        1,
    )
