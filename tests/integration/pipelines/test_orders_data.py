"""The COPY + ``INSERT ... ON CONFLICT ... WHERE IS DISTINCT FROM`` upsert, table by table."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from orders_sync.db.repositories.orders_data import UpsertCounts, upsert_rows
from orders_sync.sources.models import TdOrder
from orders_sync.sources.td import TD_ORDERS
from tests.integration.pipelines.fakes import order
from tests.support.data_probes import count_rows, row_versions

LATER = dt.datetime(2026, 1, 6, 9, 0, tzinfo=dt.UTC)


def _upsert(engine: sa.Engine, rows: list[TdOrder], store: str = "A001") -> UpsertCounts:
    with engine.begin() as conn:
        return upsert_rows(conn, TD_ORDERS, store_code=store, rows=rows, run_id="r")


@pytest.mark.parametrize(
    ("second", "counts"),
    [
        ([order(1), order(2)], (2, 0, 0)),
        ([order(1, status="Delivered"), order(2)], (2, 0, 1)),
        ([dataclasses.replace(order(1), customer_name=None), order(2)], (2, 0, 1)),
        ([dataclasses.replace(order(1), gross_amount=Decimal("100")), order(2)], (2, 0, 0)),
        ([dataclasses.replace(order(1), last_modified=LATER), order(2)], (2, 0, 1)),
        ([order(1), order(2), order(3)], (3, 1, 0)),
        ([], (0, 0, 0)),
    ],
    ids=[
        "unchanged",
        "status-changed",
        "value-to-null",
        "same-money-other-scale",
        "only-last-modified",
        "one-new",
        "empty-page",
    ],
)
def test_second_upsert_counts(
    second: list[TdOrder], counts: tuple[int, int, int], engine: sa.Engine
) -> None:
    assert _upsert(engine, [order(1), order(2)]) == UpsertCounts(2, 2, 0)
    result = _upsert(engine, second)
    assert (result.fetched, result.inserted, result.updated) == counts


def test_unchanged_rows_keep_their_row_version_and_bookkeeping(engine: sa.Engine) -> None:
    _upsert(engine, [order(1), order(2)])
    with engine.connect() as conn:
        before = conn.execute(
            sa.text("SELECT order_number, xmin::text, last_synced_at, last_run_id FROM td_orders")
        ).all()
    with engine.begin() as conn:
        upsert_rows(conn, TD_ORDERS, store_code="A001", rows=[order(1), order(2)], run_id="other")
    with engine.connect() as conn:
        after = conn.execute(
            sa.text("SELECT order_number, xmin::text, last_synced_at, last_run_id FROM td_orders")
        ).all()
    assert sorted(after) == sorted(before)


def test_a_key_twice_in_one_batch_keeps_the_newest(engine: sa.Engine) -> None:
    old = order(1)
    new = dataclasses.replace(order(1, status="Ready"), last_modified=LATER)
    assert _upsert(engine, [new, old]) == UpsertCounts(2, 1, 0)
    with engine.connect() as conn:
        status = conn.execute(sa.text("SELECT order_status FROM td_orders")).scalar_one()
    assert status == "Ready"


def test_two_batches_in_one_transaction_do_not_see_each_other(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first = upsert_rows(conn, TD_ORDERS, store_code="A001", rows=[order(1)], run_id="r")
        second = upsert_rows(conn, TD_ORDERS, store_code="A001", rows=[order(2)], run_id="r")
    assert (first, second) == (UpsertCounts(1, 1, 0), UpsertCounts(1, 1, 0))


def test_same_number_in_two_stores_is_two_rows(engine: sa.Engine) -> None:
    _upsert(engine, [order(1)], "A001")
    _upsert(engine, [order(1)], "A002")
    with engine.connect() as conn:
        assert count_rows(conn, TD_ORDERS) == 2
        assert set(row_versions(conn, TD_ORDERS)) == {
            ("A001", "A001-000001"),
            ("A002", "A001-000001"),
        }


def test_a_rolled_back_batch_leaves_nothing(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        upsert_rows(conn, TD_ORDERS, store_code="A001", rows=[order(1)], run_id="r")
        raise RuntimeError("page failed after staging")
    assert _upsert(engine, [order(2)]) == UpsertCounts(1, 1, 0)
    with engine.connect() as conn:
        assert count_rows(conn, TD_ORDERS) == 1


@pytest.mark.parametrize(
    "text",
    ["tab\there", "two\nlines", "back\\slash", "\\N", "crlf\r\n", "ẞtraße 😀", "", "\\.", " "],
    ids=["tab", "newline", "backslash", "null-marker", "crlf", "unicode", "empty", "end-marker",
         "space"],
)  # fmt: skip
def test_copied_text_comes_back_exactly_new_and_changed(text: str, engine: sa.Engine) -> None:
    """Rows are COPY-ed in text format: what COPY would read as an escape, a NULL or the end
    of the data must arrive as the string itself, through the insert and the update path."""
    first = dataclasses.replace(order(1), customer_name=text, service_type=f"s {text}")
    second = dataclasses.replace(order(2), customer_name="before")
    assert _upsert(engine, [first, second]) == UpsertCounts(2, 2, 0)
    changed = dataclasses.replace(second, customer_name=text, last_modified=LATER)
    assert _upsert(engine, [first, changed]).updated == 1
    with engine.connect() as conn:
        stored = dict(
            conn.execute(sa.text("SELECT order_number, customer_name FROM td_orders")).all()
        )
        services = conn.execute(sa.text("SELECT service_type FROM td_orders")).scalars().all()
    assert stored == {first.order_number: text, second.order_number: text}
    assert f"s {text}" in services
    assert _upsert(engine, [first, changed]) == UpsertCounts(2, 0, 0)
