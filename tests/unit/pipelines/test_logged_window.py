"""Error messages of a failed window part, and the pipeline registry's refusals."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.exceptions import UsageError
from orders_sync.pipelines.logged_window import MAX_ERROR_CHARS, describe_failure
from orders_sync.pipelines.registry import open_pipeline


def _dbapi_error() -> sa.exc.DBAPIError:
    orig = psycopg.errors.UniqueViolation("duplicate key value\nDETAIL: Key (x)=(secret) exists")
    return sa.exc.IntegrityError("INSERT INTO td_orders VALUES (...)", {"p": "9800000001"}, orig)


@pytest.mark.parametrize(
    ("part", "exc", "expected"),
    [
        ("orders", RuntimeError("boom"), "orders: RuntimeError: boom"),
        ("sales", ValueError("a\n  b"), "sales: ValueError: a b"),
        ("gst", TimeoutError(), "gst: TimeoutError: (no message)"),
    ],
    ids=["plain", "multi-line", "empty-message"],
)
def test_describe_failure(part: str, exc: BaseException, expected: str) -> None:
    assert describe_failure(part, exc) == expected


def test_describe_failure_hides_sql_and_parameters() -> None:
    message = describe_failure("orders", _dbapi_error())
    assert message.startswith("orders: UniqueViolation: duplicate key value")
    assert "INSERT" not in message and "9800000001" not in message


def test_describe_failure_is_bounded() -> None:
    message = describe_failure("orders", RuntimeError("x" * 5000))
    assert len(message) == MAX_ERROR_CHARS and message.endswith("...")


@pytest.mark.parametrize(
    ("code", "options", "says"),
    [
        ("nope", {}, "unknown pipeline"),
        ("td_orders_sync", {"only": "gst"}, "--gst-only does not apply to td_orders_sync"),
        ("uc_orders_sync", {"only": "sales"}, "--sales-only does not apply to uc_orders_sync"),
    ],
    ids=["unknown-code", "part-of-another-source", "uc-with-td-flag"],
)
def test_open_pipeline_refuses(code: str, options: dict[str, str], says: str) -> None:
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(UsageError, match=says), open_pipeline(code, engine, Settings(), **options):
        pass
