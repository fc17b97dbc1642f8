"""The standalone commands ``td_orders_sync`` and ``uc_orders_sync``: one window per store.

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

import collections
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from orders_sync import run_lifecycle
from orders_sync.cli import (
    EXIT_FAILED,
    EXIT_OK,
    CommandParser,
    add_common_arguments,
    configure_logging,
    parse_date,
    resolve_env,
    run_main,
)
from orders_sync.config import Settings, get_settings, today_in
from orders_sync.db.engine import check_connection, get_engine
from orders_sync.db.repositories import run_summaries
from orders_sync.db.repositories import stores as store_master
from orders_sync.db.repositories.pipelines import (
    TD_ORDERS_SYNC,
    UC_ORDERS_SYNC,
    resolve_pipeline_ids,
)
from orders_sync.exceptions import ConfigurationError, DatabaseUnavailableError, UsageError
from orders_sync.pipelines.logged_window import describe_failure
from orders_sync.pipelines.registry import SYNC_GROUP_OF, open_pipeline
from orders_sync.pipelines.window import (
    DEFAULT_SPAN_DAYS,
    FAILED,
    SUCCESS,
    WindowPipeline,
    WindowRequest,
    WindowResult,
    default_window,
)
from orders_sync.run_rollup import overall_status, summary_text

logger = logging.getLogger(__name__)

WINDOW_REASON = "standalone"
"""``orders_sync_log.window_reason`` of the windows a standalone run writes."""
MAX_STORE_CODE_CHARS = 8  # store_master.store_code VARCHAR(8)


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
        orders_only: TD ``--orders-only``.
        sales_only: TD ``--sales-only``.
    """

    code: str
    pipeline_id: int
    run_env: str
    today: dt.date
    from_date: dt.date
    to_date: dt.date
    stores: tuple[store_master.StoreRow, ...]
    orders_only: bool = False
    sales_only: bool = False


def build_parser(code: str) -> CommandParser:
    """The argument parser of ``code``'s command."""
    group = SYNC_GROUP_OF[code]
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
    if code == TD_ORDERS_SYNC:
        only = parser.add_mutually_exclusive_group()
        only.add_argument("--orders-only", action="store_true", help="pull orders only")
        only.add_argument("--sales-only", action="store_true", help="pull sales only")
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
    group = SYNC_GROUP_OF[code]

    engine = get_engine(settings)
    check_connection(engine)
    try:
        with engine.connect() as conn:
            pipeline_id = resolve_pipeline_ids(conn, [code])[code]
            rows = store_master.select_runnable_stores(
                conn, sync_group=group, store_code=store_code
            )
            if store_code is not None and not rows:
                found = store_master.get_store(conn, store_code)
                raise UsageError(store_master.explain_unrunnable(found, store_code, group))
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailableError(
            f"the orders database stopped answering: {describe_failure('database', exc)}"
        ) from exc
    except sa.exc.ProgrammingError as exc:
        raise ConfigurationError(
            "the orders database has no orders_sync schema; run `alembic upgrade head` "
            f"first ({describe_failure('database', exc)})."
        ) from exc
    return StandaloneRun(
        code=code,
        pipeline_id=pipeline_id,
        run_env=run_env,
        today=today,
        from_date=from_date,
        to_date=to_date,
        stores=tuple(rows),
        orders_only=bool(getattr(args, "orders_only", False)),
        sales_only=bool(getattr(args, "sales_only", False)),
    )


def execute(engine: sa.Engine, pipeline: WindowPipeline, run: StandaloneRun) -> int:
    """Open the run's summary row, run one window per store, close the row.

    Like the profiler, the run holds its liveness lock (:func:`run_lifecycle.hold_run`) for
    its whole life, so nobody closes it as abandoned while it runs, and claims each store
    with :func:`run_lifecycle.claim_store` (the store's advisory lock, shared with the
    profiler), so a window never overlaps a profiler job of that store. A store another
    run has is skipped; its window did not happen, so it counts as
    failed in the roll-up (``skipped_stores=N`` in the summary text).

    Returns:
        0 when every window succeeded (or there was no store), else 1.
    """
    run_id = run_summaries.new_run_id(run.code)
    with run_lifecycle.hold_run(engine, run_id):
        run_lifecycle.close_abandoned_runs(engine)
        with engine.begin() as conn:
            run_summaries.start_run(
                conn,
                run_id=run_id,
                pipeline_name=run.code,
                run_env=run.run_env,
                report_date=run.today,
                owner=run_lifecycle.process_owner(),
            )
        logger.info(
            "%s run %s: %d store(s), %s..%s",
            run.code,
            run_id,
            len(run.stores),
            run.from_date.isoformat(),
            run.to_date.isoformat(),
            extra={"run_id": run_id, "pipeline": run.code},
        )
        results: list[WindowResult] = []
        skipped: list[str] = []
        try:
            for store in run.stores:
                result = _run_locked(engine, pipeline, run, run_id, store)
                if result is None:
                    skipped.append(store.store_code)
                else:
                    results.append(result)
        except BaseException:
            _finish(engine, run_id, run.code, results, skipped, interrupted=True)
            raise
        status = _finish(engine, run_id, run.code, results, skipped, interrupted=False)
    return EXIT_OK if status == SUCCESS else EXIT_FAILED


def _run_locked(
    engine: sa.Engine,
    pipeline: WindowPipeline,
    run: StandaloneRun,
    run_id: str,
    store: store_master.StoreRow,
) -> WindowResult | None:
    """One store's window under :func:`run_lifecycle.claim_store` (the store's lock, with
    abandoned ``running`` rows closed first); ``None`` when another run has the store."""
    with run_lifecycle.claim_store(engine, store.store_code, run_id) as claim:
        if not claim.acquired:
            holder = f" ({claim.busy_with})" if claim.busy_with else ""
            logger.warning(
                "store %s is locked by another run%s: skipped",
                store.store_code,
                holder,
                extra={
                    "run_id": run_id,
                    "pipeline": run.code,
                    "store_code": store.store_code,
                    "status": "skipped",
                },
            )
            return None
        return pipeline.run_window(
            WindowRequest(
                store_code=store.store_code,
                cost_center=store.cost_center,
                from_date=run.from_date,
                to_date=run.to_date,
                run_id=run_id,
                run_env=run.run_env,
                window_reason=WINDOW_REASON,
            )
        )


def _finish(
    engine: sa.Engine,
    run_id: str,
    code: str,
    results: Sequence[WindowResult],
    skipped: Sequence[str],
    *,
    interrupted: bool,
) -> str:
    counts = collections.Counter((result.pipeline_code, result.status) for result in results)
    statuses = [result.status for result in results] + [FAILED for _ in skipped]
    status = FAILED if interrupted else overall_status(statuses)
    extra = {
        "rows_fetched": sum(result.rows_fetched for result in results),
        "rows_inserted": sum(result.rows_inserted for result in results),
        "rows_updated": sum(result.rows_updated for result in results),
    }
    if skipped:
        extra = {"skipped_stores": len(skipped), **extra}
    text = summary_text(counts, extra)
    if interrupted:
        text += "; interrupted"
    try:
        with engine.begin() as conn:
            run_summaries.finish_run(conn, run_id=run_id, overall_status=status, summary_text=text)
    except sa.exc.SQLAlchemyError as exc:
        if not interrupted:
            raise
        logger.error("could not close run %s: %s", run_id, describe_failure("database", exc))
    logger.log(
        logging.INFO if status == SUCCESS else logging.WARNING,
        "%s run %s finished: %s (%s)",
        code,
        run_id,
        status,
        text,
        extra={"run_id": run_id, "pipeline": code, "overall_status": status, "summary_text": text},
    )
    return status


def main(
    code: str,
    argv: Sequence[str] | None = None,
    *,
    now: Callable[[], dt.datetime] | None = None,
) -> int:
    """Run ``code``'s standalone command; returns the exit status.

    Args:
        code: ``td_orders_sync`` or ``uc_orders_sync``.
        argv: the arguments (default ``sys.argv[1:]``).
        now: the current instant (aware) for "today"; ``None`` is the real clock.
    """

    def body() -> int:
        settings = get_settings()
        run = validate(code, argv, settings, now=now)
        engine = get_engine(settings)
        with open_pipeline(
            code,
            engine,
            settings,
            orders_only=run.orders_only,
            sales_only=run.sales_only,
            pipeline_id=run.pipeline_id,
        ) as pipeline:
            return execute(engine, pipeline, run)

    return run_main(body)


def td_main(argv: Sequence[str] | None = None) -> int:
    """``python -m orders_sync.pipelines.td_orders_sync``."""
    return main(TD_ORDERS_SYNC, argv)


def uc_main(argv: Sequence[str] | None = None) -> int:
    """``python -m orders_sync.pipelines.uc_orders_sync``."""
    return main(UC_ORDERS_SYNC, argv)
