"""Error classes: context in the message, pickling, token redaction."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from orders_sync.exceptions import OrdersSyncError
from orders_sync.sources.errors import (
    PageContext,
    SourceAuthError,
    SourceBadRequestError,
    SourceDataError,
    SourceError,
    SourceNotFoundError,
    SourceRetriesExhaustedError,
    blank_secret,
)

CTX = PageContext("UC104", "/api/gst-report", dt.date(2026, 1, 1), dt.date(2026, 3, 3), 2)

ERRORS = [
    SourceError("odd", context=CTX),
    SourceAuthError("authentication failed", context=CTX),
    SourceNotFoundError("unknown store", context=CTX),
    SourceBadRequestError("bad request", context=CTX),
    SourceDataError("bad field", context=CTX, field="cgst", row=4),
    SourceRetriesExhaustedError("gave up", context=CTX, attempts=5, last_status=503),
]
IDS = ["base", "auth", "not-found", "bad-request", "data", "retries-exhausted"]


@pytest.mark.parametrize("error", ERRORS, ids=IDS)
def test_message_and_attributes_name_store_endpoint_range_and_page(error: SourceError) -> None:
    assert isinstance(error, SourceError) and isinstance(error, OrdersSyncError)
    assert str(error).endswith("[store UC104, /api/gst-report, 2026-01-01..2026-03-03, page 2]")
    assert (error.store_code, error.endpoint, error.page) == ("UC104", "/api/gst-report", 2)
    assert (error.from_date, error.to_date) == (dt.date(2026, 1, 1), dt.date(2026, 3, 3))


@pytest.mark.parametrize("error", ERRORS, ids=IDS)
def test_pickles_with_context_and_extras(error: SourceError) -> None:
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert clone.context == error.context
    assert vars(clone) == vars(error)


def test_redaction_blanks_the_secret_and_keeps_everything_else() -> None:
    error = SourceDataError("value 'tok-123' is odd", context=CTX, field="hsn_sac", row=1)
    clean = error.redacted("tok-123")
    assert "tok-123" not in str(clean)
    assert "***" in str(clean)
    assert (type(clean), clean.field, clean.row, clean.context) == (
        SourceDataError, "hsn_sac", 1, CTX,
    )  # fmt: skip
    assert error.redacted("absent") is error
    assert error.redacted("") is error


def test_error_without_context_is_just_the_reason() -> None:
    assert str(SourceError("plain")) == "plain"
    assert SourceError("plain").store_code is None


@pytest.mark.parametrize(
    ("text", "secret", "expected"),
    [
        ("authentication failed for a", "a", "authentication failed for ***"),
        ("Bearer abc123 rejected", "abc123", "Bearer *** rejected"),
        ("key=abc123&x", "abc123", "key=***&x"),
        ("prefix-td-secret-token-1-suffix", "td-secret-token-1", "prefix-***-suffix"),
        ("tokentokentoken", "tokentok", "***entoken"),
        ("nothing here", "", "nothing here"),
    ],
    ids=[
        "short-token-keeps-words",
        "short-whole-word",
        "short-in-query",
        "long-substring",
        "long-inside-word",
        "empty-secret",
    ],  # fmt: skip
)
def test_blank_secret_whole_words_for_short_secrets(text: str, secret: str, expected: str) -> None:
    assert blank_secret(text, secret) == expected


def test_a_one_letter_token_leaves_the_authentication_message_readable() -> None:
    error = SourceAuthError("authentication failed: check TD_API_TOKEN (got a)")
    assert "authentication" in error.redacted("a").reason
    assert "(got ***)" in error.redacted("a").reason
