"""Run one store + date window as a sequence of parts, keeping ``orders_sync_log`` true.

A window is one or more *parts* (TD: orders then sales; UC: GST), each a stream of source
pages written to one data table. The rules of the requirement's section C, for every
pipeline:

- the ``running`` row is inserted and committed before any source request;
- source pages are upserted whole, several per transaction (:mod:`page_writer`), so a
  failure never leaves half a page written and every batch committed before it stays;
- a part's ``*_pulled_at`` is set once all its pages are pulled *and* stored;
- the first part failing makes the window ``failed`` (later parts are not attempted); a
  later part failing makes it ``partial``; all parts succeeding makes it ``success``;
- nothing below the window's own level escapes: the final status, an ``error_message``
  naming the part, the class and the message, and the row counts are written and returned.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence

import psycopg
import sqlalchemy as sa

from orders_sync.db.engine import is_disconnect
from orders_sync.db.repositories import sync_log
from orders_sync.db.repositories.orders_data import UpsertCounts
from orders_sync.db.repositories.pipelines import resolve_pipeline_ids
from orders_sync.domain import CloseReason, Status
from orders_sync.exceptions import RunInterrupted
from orders_sync.pipelines.page_writer import DEFAULT_BATCH_ROWS, PageWriter
from orders_sync.pipelines.window import WindowRequest, WindowResult
from orders_sync.sources.spec import DataTable, PageSource, Source

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class WindowPart:
    """One source stream of a window.

    Attributes:
        name: named in error messages: ``orders``, ``sales`` or ``gst``.
        pulled: which log column it sets when done: ``orders`` (``orders_pulled_at``) or
            ``sales`` (``sales_pulled_at``).
        pages: yields the source pages of a store and date range.
        table: the data table its rows are upserted into.
    """

    name: str
    pulled: str
    pages: PageSource
    table: DataTable


def describe_failure(part: str, exc: BaseException) -> str:
    """``part: ExceptionClass: message`` — one line, bounded, without SQL or row values.

    A database error is described by the driver's exception class and primary message
    only: the statement, its parameters and the server's ``CONTEXT``/``DETAIL`` lines may
    hold customer data. Source errors come already redacted of credentials by the clients.
    """
    cause: BaseException = exc
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        cause = exc.orig
    text = str(cause)
    if isinstance(cause, psycopg.Error) and cause.diag.message_primary:
        text = cause.diag.message_primary
    text = " ".join(text.split()) or "(no message)"
    message = f"{part}: {type(cause).__name__}: {text}"
    if len(message) > MAX_ERROR_CHARS:
        message = message[: MAX_ERROR_CHARS - 3] + "..."
    return message


@dataclasses.dataclass(slots=True)
class _Tally:
    fetched: int = 0
    written: UpsertCounts = dataclasses.field(default_factory=UpsertCounts)


def _run_part(
    engine: sa.Engine,
    part: WindowPart,
    request: WindowRequest,
    *,
    pipeline_id: int,
    log_id: int,
    tally: _Tally,
    batch_rows: int,
) -> None:
    writer = PageWriter(
        engine,
        part.table,
        store_code=request.store_code,
        run_id=request.run_id,
        batch_rows=batch_rows,
    )
    try:
        writer.write_all(part.pages(request.store_code, request.from_date, request.to_date))
    finally:
        tally.fetched += writer.fetched
        tally.written += writer.written
    with engine.begin() as conn:
        sync_log.mark_pulled(conn, log_id=log_id, pipeline_id=pipeline_id, part=part.pulled)


def run_logged_window(
    engine: sa.Engine,
    *,
    code: str,
    pipeline_id: int,
    request: WindowRequest,
    parts: Sequence[WindowPart],
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> WindowResult:
    """Run ``parts`` in order for ``request``, logged in ``orders_sync_log``.

    Never raises for a failure of the window (source, data or database errors); a
    ``KeyboardInterrupt`` or ``SystemExit`` is logged as ``failed`` (best effort) and
    re-raised.

    Args:
        engine: the orders database.
        code: the pipeline code, for the result and the messages.
        pipeline_id: its ``pipelines.id``, put on every log write.
        request: store, window and run.
        parts: at least one part; the first is the one whose failure fails the window.
        batch_rows: rows of whole pages written per transaction (see :mod:`page_writer`).
    """
    if not parts:
        raise ValueError("a window needs at least one part")
    started = time.monotonic()
    tally = _Tally()

    def result(
        status: str, error: str | None, log_id: int | None, lost: bool = False
    ) -> WindowResult:
        return WindowResult(
            pipeline_code=code,
            store_code=request.store_code,
            from_date=request.from_date,
            to_date=request.to_date,
            status=status,
            rows_fetched=tally.fetched,
            rows_inserted=tally.written.inserted,
            rows_updated=tally.written.updated,
            duration_s=time.monotonic() - started,
            error_message=error,
            log_id=log_id,
            database_lost=lost,
        )

    try:
        with engine.begin() as conn:
            log_id = sync_log.insert_running(
                conn,
                pipeline_id=pipeline_id,
                run_id=request.run_id,
                run_env=request.run_env,
                store_code=request.store_code,
                cost_center=request.cost_center,
                from_date=request.from_date,
                to_date=request.to_date,
                window_reason=request.window_reason,
            )
    except Exception as exc:
        outcome = result(Status.FAILED, describe_failure("log", exc), None, is_disconnect(exc))
        _log_result(outcome, request)
        return outcome

    status, error, lost = Status.SUCCESS, None, False
    try:
        for index, part in enumerate(parts):
            try:
                _run_part(
                    engine,
                    part,
                    request,
                    pipeline_id=pipeline_id,
                    log_id=log_id,
                    tally=tally,
                    batch_rows=batch_rows,
                )
            except Exception as exc:
                error = describe_failure(part.name, exc)
                if is_disconnect(exc):  # not the source's doing: the caller may retry
                    status, lost = Status.FAILED, True
                    break
                if index == 0:
                    status = Status.FAILED
                    skipped = [p.name for p in parts[1:]]
                    if skipped:
                        error += f" ({', '.join(skipped)} not attempted)"
                    break
                status = Status.PARTIAL
    except BaseException as exc:  # interrupted: do not leave a running row behind
        stopped = isinstance(exc, RunInterrupted) or not isinstance(exc, Exception)
        reason = CloseReason.INTERRUPTED if stopped else None
        why = (
            f"{reason}: {exc}"
            if isinstance(exc, RunInterrupted)
            else describe_failure("window", exc)
        )
        _finish(engine, pipeline_id, log_id, result(Status.FAILED, why, log_id), reason)
        raise
    outcome = result(status, error, log_id, lost)
    _finish(engine, pipeline_id, log_id, outcome)
    _log_result(outcome, request)
    return outcome


def _finish(
    engine: sa.Engine,
    pipeline_id: int,
    log_id: int,
    outcome: WindowResult,
    close_reason: CloseReason | None = None,
) -> None:
    try:
        with engine.begin() as conn:
            sync_log.finish_window(
                conn,
                log_id=log_id,
                pipeline_id=pipeline_id,
                outcome=sync_log.WindowOutcome(
                    status=outcome.status,
                    error_message=outcome.error_message,
                    rows_fetched=outcome.rows_fetched,
                    rows_inserted=outcome.rows_inserted,
                    rows_updated=outcome.rows_updated,
                    duration_ms=round(outcome.duration_s * 1000),
                    close_reason=close_reason,
                ),
            )
    except Exception as exc:
        # The database itself is gone: the row stays 'running' and the profiler closes it
        # later under the store's lock. Nothing better can be done from here.
        logger.error(
            "could not record the final status of orders_sync_log row %d: %s",
            log_id,
            describe_failure("log", exc),
        )


def _log_result(outcome: WindowResult, request: WindowRequest) -> None:
    level = logging.INFO if outcome.ok else logging.WARNING
    logger.log(
        level,
        "%s %s %s..%s %s: %d fetched, %d inserted, %d updated in %.1fs%s",
        outcome.pipeline_code,
        outcome.store_code,
        outcome.from_date.isoformat(),
        outcome.to_date.isoformat(),
        outcome.status,
        outcome.rows_fetched,
        outcome.rows_inserted,
        outcome.rows_updated,
        outcome.duration_s,
        f" ({outcome.error_message})" if outcome.error_message else "",
        extra={
            "run_id": request.run_id,
            "pipeline": outcome.pipeline_code,
            "store_code": outcome.store_code,
            "from_date": outcome.from_date.isoformat(),
            "to_date": outcome.to_date.isoformat(),
            "status": outcome.status,
            "duration_ms": round(outcome.duration_s * 1000),
            "rows_fetched": outcome.rows_fetched,
            "rows_inserted": outcome.rows_inserted,
            "rows_updated": outcome.rows_updated,
            "error_message": outcome.error_message,
        },
    )


class SourcePipeline:
    """A source's pipeline: ``pipeline_id`` resolved once, the source's parts run logged.

    Args:
        engine: the orders database.
        source: the source's declaration (:mod:`orders_sync.sources.registry`).
        client: its client, with a method for each part's ``pages``; the caller owns (and
            closes) it.
        only: run only the part of this name (``--orders-only``: ``orders``).
        pipeline_id: ``pipelines.id`` of the source's pipeline if already known; else
            resolved here.
        batch_rows: rows of whole source pages written per transaction.

    Raises:
        ValueError: ``only`` names no part of the source.
        ConfigurationError: ``pipelines`` has no row for the source's pipeline.
    """

    def __init__(
        self,
        engine: sa.Engine,
        source: Source,
        client: object,
        *,
        only: str | None = None,
        pipeline_id: int | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        self.engine = engine
        self.source = source
        self.client = client
        self.code = source.pipeline_code
        self.only = only
        self.batch_rows = batch_rows
        self._parts = tuple(
            WindowPart(part.name, part.pulled, getattr(client, part.pages), part.table)
            for part in source.select_parts(only)
        )
        if pipeline_id is None:
            with engine.connect() as conn:
                pipeline_id = resolve_pipeline_ids(conn, [self.code])[self.code]
        self.pipeline_id: int = pipeline_id

    def __repr__(self) -> str:
        only = f" only={self.only}" if self.only else ""
        return f"<{type(self).__name__} {self.code} pipeline_id={self.pipeline_id}{only}>"

    def parts(self) -> Sequence[WindowPart]:
        """The parts of a window, in order."""
        return self._parts

    def run_window(self, request: WindowRequest) -> WindowResult:
        """Sync one store over one window; never raises for a window failure."""
        return run_logged_window(
            self.engine,
            code=self.code,
            pipeline_id=self.pipeline_id,
            request=request,
            parts=self._parts,
            batch_rows=self.batch_rows,
        )
