"""The standalone command of every source's pipeline: one window per store.

A run validates everything first — flags, dates, the store, the database, the pipeline
row, the API settings — and writes nothing until all of it holds (exit status 2 and one
line on stderr otherwise). Then it opens its own ``pipeline_run_summaries`` row
(``pipeline_name`` = the pipeline code) and holds the run's liveness lock, runs one window
for every active store of the pipeline's sync group (or the one store given), one after
the other, each under its store's advisory lock (shared with the run profiler), and closes
the row with the roll-up of the window statuses: exit 0 when every window succeeded (or
there was no store), 1 otherwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from orders_sync.cli import (
    EXIT_FAILED,
    EXIT_OK,
    CommandParser,
    add_common_arguments,
    command_settings,
    configure_logging,
    describe_database_error,
    parse_date,
    resolve_env,
    run_main,
)
from orders_sync.config import Settings, get_settings, today_in
from orders_sync.db.engine import check_connection, get_engine
from orders_sync.db.migrate import require_current
from orders_sync.db.repositories import stores as store_master
from orders_sync.db.repositories.pipelines import resolve_pipeline_ids
from orders_sync.domain import (
    MAX_STORE_CODE_CHARS,
    Job,
    PipelineRef,
    PlannedWindow,
    WindowReason,
)
from orders_sync.exceptions import ConfigurationError, DatabaseUnavailableError, UsageError
from orders_sync.pipelines.logged_window import describe_failure
from orders_sync.pipelines.registry import open_pipeline
from orders_sync.pipelines.window import DEFAULT_SPAN_DAYS, WindowPipeline, default_window
from orders_sync.run_profiler.load_plan import no_store_selected
from orders_sync.runs import lifecycle
from orders_sync.runs.results import JobResult
from orders_sync.runs.steps import run_job
from orders_sync.runs.summary import run_succeeded
from orders_sync.sources import registry
from orders_sync.sources.factory import require_sources

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class StandaloneRun:
    """A validated standalone run, ready to write.

    Attributes:
        code: the pipeline code.
        pipeline_id: its ``pipelines.id``.
        run_env: ``--env``.
        today: today in ``config.pipeline_timezone`` (the run's ``report_date``).
        from_date: first day of every store's window.
        to_date: last day of every store's window.
        stores: the stores to run, in ``store_code`` order.
        only: the one part to run (``--orders-only``: ``orders``); ``None``: every part.
    """

    code: str
    pipeline_id: int
    run_env: str
    today: dt.date
    from_date: dt.date
    to_date: dt.date
    stores: tuple[store_master.StoreRow, ...]
    only: str | None = None


def build_parser(code: str) -> CommandParser:
    """The argument parser of ``code``'s command."""
    source = registry.for_pipeline(code)
    group = source.sync_group
    parser = CommandParser(
        prog=f"{code}.sh",
        description=(
            f"Sync every active {group} store (or one) over one date window, logged in "
            "orders_sync_log. Exit 0: every window succeeded; 1: a window failed or was "
            "partial; 2: bad usage or configuration (nothing written)."
        ),
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--store-code", help=f"one {group} store (store_master.store_code); default: all"
    )
    parser.add_argument(
        "--from-date",
        type=parse_date,
        metavar="YYYY-MM-DD",
        help=f"first day (default: to-date minus {DEFAULT_SPAN_DAYS - 1} days)",
    )
    parser.add_argument(
        "--to-date",
        type=parse_date,
        metavar="YYYY-MM-DD",
        help="last day (default: today in ORDERS_SYNC_TIMEZONE)",
    )
    if source.part_flags:
        only = parser.add_mutually_exclusive_group()
        for part in source.parts:
            only.add_argument(
                f"--{part.name}-only",
                dest="only",
                action="store_const",
                const=part.name,
                help=f"pull {part.name} only",
            )
    return parser


def _store_code(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not raw.strip():
        raise UsageError("--store-code must not be empty.")
    if len(raw) > MAX_STORE_CODE_CHARS:
        raise UsageError(
            f"unknown store code {raw!r}: store codes have at most "
            f"{MAX_STORE_CODE_CHARS} characters."
        )
    return raw


def validate(
    code: str,
    argv: Sequence[str] | None,
    settings: Settings,
    *,
    now: Callable[[], dt.datetime] | None = None,
) -> StandaloneRun:
    """Parse and check everything a run needs, writing nothing.

    Args:
        code: the pipeline code.
        argv: the command's arguments (default ``sys.argv[1:]``).
        settings: the process settings.
        now: the current instant (aware); ``None`` is the real clock. "Today" is its date
            in ``settings.pipeline_timezone``.

    Raises:
        SystemExit: a flag is unknown or malformed (status 2, one line on stderr).
        UsageError: dates out of order, or the store is unknown, inactive or of the
            other group.
        ConfigurationError: the schema lacks the pipeline row or the tables.
        DatabaseUnavailableError: the database cannot be reached.
    """
    args = build_parser(code).parse_args(argv)
    configure_logging(args.log_format)
    run_env = resolve_env(args.env, settings.env)
    today = today_in(settings.pipeline_timezone, now() if now is not None else None)
    from_date, to_date = default_window(today, from_date=args.from_date, to_date=args.to_date)
    store_code = _store_code(args.store_code)
    group = registry.for_pipeline(code).sync_group

    settings = command_settings(settings)
    engine = get_engine(settings)
    check_connection(engine)
    try:
        with engine.connect() as conn:
            require_current(conn)
            pipeline_id = resolve_pipeline_ids(conn, [code])[code]
            rows = store_master.select_runnable_stores(
                conn, sync_groups=[group], store_code=store_code
            )
            if store_code is not None and not rows:
                found = store_master.get_store(conn, store_code)
                raise UsageError(store_master.explain_unrunnable(found, store_code, [group]))
            if not rows:
                raise ConfigurationError(no_store_selected(conn, [group]))
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailableError(
            f"the orders database stopped answering: {describe_failure('database', exc)}"
        ) from exc
    except sa.exc.ProgrammingError as exc:  # a privilege or a table: the server's sentence
        raise ConfigurationError(describe_database_error(exc)[0]) from exc
    if rows:
        require_sources(settings, [code])
    return StandaloneRun(
        code=code,
        pipeline_id=pipeline_id,
        run_env=run_env,
        today=today,
        from_date=from_date,
        to_date=to_date,
        stores=tuple(rows),
        only=getattr(args, "only", None),
    )


def execute(engine: sa.Engine, pipeline: WindowPipeline, run: StandaloneRun) -> int:
    """Open the run's summary row, run one window per store, close the row.

    The same lifecycle as the profiler's (:mod:`orders_sync.runs.lifecycle`): the run holds
    its liveness lock for its whole life, so nobody closes it as abandoned while it runs,
    and claims each store (the store's advisory lock, shared with the profiler), so a window
    never overlaps a profiler job of that store. A store another run has is skipped; a
    standalone run was asked for that window by hand, so a skip fails it
    (``skipped_fails_run``; ``skipped_stores=N`` in the summary text).

    Returns:
        0 when every window succeeded (or there was no store), else 1.
    """
    ref = PipelineRef(code=run.code, id=run.pipeline_id)
    jobs = [
        Job(
            store_code=store.store_code,
            cost_center=store.cost_center,
            pipeline=ref,
            windows=(PlannedWindow(run.from_date, run.to_date, (WindowReason.STANDALONE,)),),
        )
        for store in run.stores
    ]
    with lifecycle.process_run(
        engine, pipeline_name=run.code, run_env=run.run_env, report_date=run.today
    ) as run_id:
        logger.info(
            "%s run %s: %d store(s), %s..%s",
            run.code,
            run_id,
            len(run.stores),
            run.from_date.isoformat(),
            run.to_date.isoformat(),
            extra={"run_id": run_id, "pipeline": run.code},
        )
        results: list[JobResult] = []
        try:
            for job in jobs:
                results.append(
                    run_job(
                        engine,
                        job,
                        lambda: contextlib.nullcontext(pipeline),
                        run_id=run_id,
                        run_env=run.run_env,
                    )
                )
        except BaseException:
            try:
                lifecycle.close_run(
                    engine, run_id, results, interrupted=True, skipped_fails_run=True
                )
            except sa.exc.SQLAlchemyError as exc:
                logger.error(
                    "could not close run %s: %s", run_id, describe_failure("database", exc)
                )
            raise
        outcome = lifecycle.close_run(
            engine, run_id, results, skipped_fails_run=True, more=lambda _: rows_written(results)
        )
    return EXIT_OK if run_succeeded(outcome.overall_status) else EXIT_FAILED


def rows_written(results: Sequence[JobResult]) -> dict[str, int]:
    """The standalone run's row counters for ``summary_text``."""
    windows = [window for result in results for window in result.windows]
    return {
        "rows_fetched": sum(w.rows_fetched for w in windows),
        "rows_inserted": sum(w.rows_inserted for w in windows),
        "rows_updated": sum(w.rows_updated for w in windows),
    }


def main(
    code: str,
    argv: Sequence[str] | None = None,
    *,
    now: Callable[[], dt.datetime] | None = None,
) -> int:
    """Run ``code``'s standalone command; returns the exit status.

    Args:
        code: a source's pipeline code.
        argv: the arguments (default ``sys.argv[1:]``).
        now: the current instant (aware) for "today"; ``None`` is the real clock.
    """

    def body() -> int:
        run = validate(code, argv, get_settings(), now=now)
        settings = get_settings()
        engine = get_engine(settings)
        with open_pipeline(
            code,
            engine,
            settings,
            only=run.only,
            pipeline_id=run.pipeline_id,
        ) as pipeline:
            return execute(engine, pipeline, run)

    return run_main(body)
