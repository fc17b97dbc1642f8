"""Shared CLI plumbing: one-line errors, dates, exit statuses, log formats."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest

from orders_sync import cli
from orders_sync.exceptions import (
    ConfigurationError,
    DatabaseUnavailableError,
    OrdersSyncError,
    UsageError,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-06", dt.date(2026, 1, 6)),
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("2025-02-29", None),
        ("2026-13-01", None),
        ("2026-1-6", None),
        ("06/01/2026", None),
        ("20260106", None),
        ("2026-01-06T00:00", None),
        ("", None),
    ],
    ids=[
        "ok",
        "leap-day",
        "not-leap",
        "month-13",
        "unpadded",
        "slashes",
        "compact",
        "time",
        "empty",
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    if expected is None:
        with pytest.raises(argparse.ArgumentTypeError, match="YYYY-MM-DD"):
            cli.parse_date(text)
    else:
        assert cli.parse_date(text) == expected


def _parser() -> cli.CommandParser:
    parser = cli.CommandParser(prog="x")
    cli.add_common_arguments(parser)
    parser.add_argument("--from-date", type=cli.parse_date)
    return parser


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--nope"], "unrecognized arguments: --nope"),
        (["--from-date", "2026-02-30"], "invalid date '2026-02-30'"),
        (["--from-date"], "expected one argument"),
        (["--log-format", "yaml"], "invalid choice"),
    ],
    ids=["unknown-flag", "bad-date", "missing-value", "bad-choice"],
)
def test_parser_errors_are_one_line_and_status_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and says in err
    assert "usage:" not in err


def test_common_arguments_defaults() -> None:
    args = _parser().parse_args([])
    assert (args.env, args.log_format) == (None, "auto")
    assert cli.resolve_env(args.env, "prod") == "prod"
    assert cli.resolve_env("staging", "prod") == "staging"


@pytest.mark.parametrize("env", ["", "   ", "x" * 33], ids=["empty", "blank", "too-long"])
def test_resolve_env_rejects(env: str) -> None:
    with pytest.raises(UsageError, match="--env"):
        cli.resolve_env(env, "dev")


def _raiser(exc: BaseException) -> Callable[[], int]:
    def body() -> int:
        raise exc

    return body


@pytest.mark.parametrize(
    ("body", "status", "line"),
    [
        (lambda: 0, 0, None),
        (lambda: 1, 1, None),
        (_raiser(UsageError("bad flag.")), 2, "error: bad flag."),
        (_raiser(ConfigurationError("bad env.")), 2, "error: bad env."),
        (_raiser(DatabaseUnavailableError("no db\nat all")), 2, "error: no db at all"),
        (_raiser(KeyboardInterrupt()), 130, "error: interrupted"),
        (_raiser(SystemExit(2)), 2, None),
        (_raiser(SystemExit(0)), 0, None),
        (_raiser(RuntimeError("oops")), 1, "error: RuntimeError: oops"),
        (_raiser(OrdersSyncError("odd")), 1, "error: OrdersSyncError: odd"),
    ],
    ids=[
        "ok",
        "failed",
        "usage",
        "configuration",
        "database",
        "ctrl-c",
        "argparse-error",
        "help",
        "unexpected",
        "other-own-error",
    ],
)
def test_run_main_exit_statuses(
    body: Callable[[], int],
    status: int,
    line: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    assert cli.run_main(body) == status
    err = capsys.readouterr().err
    if line is None:
        assert err == ""
    else:
        assert err.count("\n") == 1 and err.startswith(line)
        assert "Traceback" not in err


def test_run_main_prints_the_traceback_only_in_debug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cli.DEBUG_VARIABLE, "1")
    assert cli.run_main(_raiser(RuntimeError("oops"))) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().splitlines()[-1].startswith("error: RuntimeError")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("choice", "stream", "expected"),
    [
        ("auto", _Tty(), "text"),
        ("auto", io.StringIO(), "json"),
        ("json", _Tty(), "json"),
        ("text", io.StringIO(), "text"),
    ],
    ids=["auto-tty", "auto-pipe", "forced-json", "forced-text"],
)
def test_resolve_log_format(choice: str, stream: io.StringIO, expected: str) -> None:
    assert cli.resolve_log_format(choice, stream) == expected


@pytest.fixture
def orders_sync_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("orders_sync")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_json_lines_carry_the_window_fields(orders_sync_logger: logging.Logger) -> None:
    stream = io.StringIO()
    assert cli.configure_logging("auto", stream=stream) == "json"
    cli.configure_logging("auto", stream=stream)  # idempotent: still one handler
    logging.getLogger("orders_sync.pipelines.x").info(
        "window done",
        extra={"run_id": "r1", "store_code": "A001", "pipeline": "td_orders_sync",
               "from_date": "2026-01-01", "to_date": "2026-01-02", "status": "success",
               "duration_ms": 12, "rows_fetched": 3, "rows_inserted": 2, "rows_updated": 1},
    )  # fmt: skip
    [line] = stream.getvalue().splitlines()
    event = json.loads(line)
    assert event["message"] == "window done" and event["level"] == "info"
    assert {k: event[k] for k in ("run_id", "store_code", "status", "rows_updated")} == {
        "run_id": "r1",
        "store_code": "A001",
        "status": "success",
        "rows_updated": 1,
    }


def test_text_lines_for_a_person(orders_sync_logger: logging.Logger) -> None:
    stream = _Tty()
    assert cli.configure_logging("auto", stream=stream) == "text"
    logging.getLogger("orders_sync.x").warning("A001 partial")
    assert stream.getvalue().rstrip().endswith("WARNING A001 partial")
