"""Write source pages to a data table: whole pages only, several per transaction.

Every source page (one HTTP response) is written whole or not at all: pages are buffered
and upserted in batches of at least ``batch_rows`` rows, one transaction per batch, never
splitting a page. Fewer, larger transactions make the upsert several times faster than one
per page (each commit and each statement is a round trip to the server), and a batch is as
atomic as a page: a failure loses at most the uncommitted batch, which the next run of
the window fetches again; everything committed before it stays correct.

When the source fails mid-stream, the whole pages already received are written before the
error is passed on, so a failed part keeps everything it fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from orders_sync.db.repositories.orders_data import UpsertCounts, upsert_rows
from orders_sync.sources.spec import DataTable

logger = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 5000
"""Rows buffered before a transaction is written (whole pages; 10 TD pages of 500)."""


class PageWriter:
    """Upserts the pages of one store into one data table, batch by batch.

    Args:
        engine: the orders database.
        table: the data table.
        store_code: the store every row belongs to.
        run_id: written to ``last_run_id`` of inserted and changed rows.
        batch_rows: write once at least this many rows are buffered (1: every page).

    Attributes:
        fetched: source rows received so far.
        written: what the committed batches did (``fetched`` counts committed rows).
    """

    def __init__(
        self,
        engine: sa.Engine,
        table: DataTable,
        *,
        store_code: str,
        run_id: str,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be 1 or more, got {batch_rows}")
        self.engine = engine
        self.table = table
        self.store_code = store_code
        self.run_id = run_id
        self.batch_rows = batch_rows
        self.fetched = 0
        self.written = UpsertCounts()
        self._buffer: list[Any] = []

    def write_all(self, pages: Iterable[Sequence[Any]]) -> UpsertCounts:
        """Write every page of ``pages``; returns what the whole stream did.

        Raises:
            Exception: whatever the page source or the database raised; the whole pages
                received before a source failure are written first.
        """
        iterator = iter(pages)
        while True:
            try:
                page = next(iterator)
            except StopIteration:
                break
            except Exception:
                self._flush_before_failing()
                raise
            self.fetched += len(page)
            self._buffer.extend(page)
            if len(self._buffer) >= self.batch_rows:
                self.flush()
        self.flush()
        return self.written

    def flush(self) -> None:
        """Write the buffered pages in one transaction."""
        if not self._buffer:
            return
        rows, self._buffer = self._buffer, []
        with self.engine.begin() as conn:
            done = upsert_rows(
                conn, self.table, store_code=self.store_code, rows=rows, run_id=self.run_id
            )
        self.written += done
        logger.debug(
            "%s %s: %d rows written, %d inserted, %d updated",
            self.store_code,
            self.table.name,
            done.fetched,
            done.inserted,
            done.updated,
        )

    def _flush_before_failing(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # the source error is the one to report
            logger.warning(
                "%s %s: could not write the pages received before the source failed: %s",
                self.store_code,
                self.table.name,
                exc,
            )
