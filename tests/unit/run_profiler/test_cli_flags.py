"""The profiler's command line in-process: flags, defaults, exit status 2 with one line.

No database is reachable here (``ORDERS_SYNC_DATABASE_URL`` points at a closed port), so
these also show that bad input is refused before any connection is attempted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest

from orders_sync.config import Settings, override_settings
from orders_sync.run_profiler import main as cli_main
from orders_sync.run_profiler.main import build_parser

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ORDERS_SYNC_DATABASE_URL", NOWHERE)
    override_settings(Settings(database_url=NOWHERE))
    # the real handlers would replace pytest's own SIGINT handling
    monkeypatch.setattr(
        cli_main, "stop_on_signals", lambda *a, **k: contextlib.nullcontext(threading.Event())
    )
    yield
    override_settings(None)


def test_defaults() -> None:
    args = build_parser(Settings(env="qa")).parse_args([])

    assert (args.env, args.sync_group, args.window_days, args.overlap_days) == ("qa", "ALL", 90, 1)
    assert args.max_workers in (2, 3)
    assert (args.force, args.store_code, args.dry_run) == (False, None, False)


def test_every_flag_parses() -> None:
    args = build_parser(Settings()).parse_args(
        [
            "--env",
            "prod",
            "--sync-group",
            "UC",
            "--window-days",
            "30",
            "--overlap-days",
            "0",
            "--max-workers",
            "8",
            "--force",
            "--store-code",
            "UC104",
            "--dry-run",
        ]
    )

    assert (args.env, args.sync_group, args.window_days, args.overlap_days) == (
        "prod",
        "UC",
        30,
        0,
    )
    assert (args.max_workers, args.force, args.store_code, args.dry_run) == (8, True, "UC104", True)


BAD = {
    "window-days-0": (["--window-days", "0"], "--window-days"),
    "window-days-negative": (["--window-days", "-3"], "--window-days"),
    "window-days-not-int": (["--window-days", "1.5"], "--window-days"),
    "window-days-missing-value": (["--window-days"], "--window-days"),
    "overlap-days-negative": (["--overlap-days", "-1"], "--overlap-days"),
    "max-workers-0": (["--max-workers", "0"], "--max-workers"),
    "max-workers-negative": (["--max-workers", "-2"], "--max-workers"),
    "sync-group-XX": (["--sync-group", "XX"], "--sync-group"),
    "sync-group-empty": (["--sync-group", ""], "--sync-group"),
    "unknown-flag": (["--from-date", "2026-01-01"], "--from-date"),
    "unknown-short-flag": (["-x"], "-x"),
    "positional": (["TD"], "TD"),
    "store-code-too-long": (["--store-code", "ABCDEFGHI"], "--store-code"),
    "env-empty": (["--env", ""], "--env"),
    "log-format-xml": (["--log-format", "xml"], "--log-format"),
}


@pytest.mark.parametrize(("argv", "named"), BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str, dry_run: bool
) -> None:
    status = cli_main.main([*argv, *(["--dry-run"] if dry_run else [])])

    out, err = capsys.readouterr()
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    assert named in lines[0]
    assert out == ""


@pytest.mark.parametrize("argv", [[], ["--dry-run"]], ids=["run", "dry-run"])
def test_unreachable_database_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    status = cli_main.main(argv)

    _, err = capsys.readouterr()
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error:") and "127.0.0.1:1/nowhere" in lines[0]


def test_help_states_the_decision_rules(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main.main(["--help"])

    out, _ = capsys.readouterr()
    assert status == 0
    text = " ".join(out.split())
    for phrase in ("orders_sync_log", "start_date", "N-day", "today", "failed or partial"):
        assert phrase in text
