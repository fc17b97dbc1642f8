"""What ``orders_sync_log`` says about each store + pipeline for the status view.

Set-based, a fixed number of statements whatever the number of stores: the success islands
(the same islands SQL as the planner's log facts, so "covered" means one thing), the
failing windows, the running windows, the last success and the stuck days per store +
pipeline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa

from orders_sync.db.repositories.log_facts import Key, StuckRange, covered_islands, stuck_ranges
from orders_sync.domain import DateRange

# Per exact window with a failed/partial attempt (few): its latest attempt, one index probe
# each; failing when that attempt is failed or partial.
_FAILING_SQL = """
WITH bad AS (
    SELECT pipeline_id, store_code, from_date, to_date, COUNT(*) AS failures,
           MIN(created_at) AS first_failed_at
    FROM orders_sync_log
    WHERE status IN ('failed', 'partial') AND pipeline_id = ANY(:pipeline_ids)
      AND store_code = ANY(:store_codes)
    GROUP BY pipeline_id, store_code, from_date, to_date
)
SELECT b.pipeline_id, b.store_code, b.from_date, b.to_date, latest.status,
       latest.error_message, b.failures, latest.updated_at, b.first_failed_at
FROM bad b
CROSS JOIN LATERAL (
    SELECT l.status, l.error_message, l.updated_at
    FROM orders_sync_log l
    WHERE l.pipeline_id = b.pipeline_id AND l.store_code = b.store_code
      AND l.from_date = b.from_date AND l.to_date = b.to_date
    ORDER BY l.created_at DESC, l.id DESC
    LIMIT 1
) AS latest
WHERE latest.status IN ('failed', 'partial')
ORDER BY b.pipeline_id, b.store_code, b.from_date, b.to_date
"""

_LATEST_SQL = """
SELECT pipeline_id, store_code,
       MAX(updated_at) FILTER (WHERE status = 'success') AS last_success_at
FROM orders_sync_log
WHERE pipeline_id = ANY(:pipeline_ids) AND store_code = ANY(:store_codes)
GROUP BY pipeline_id, store_code
"""

_RUNNING_SQL = """
SELECT pipeline_id, store_code, from_date, to_date
FROM orders_sync_log
WHERE status = 'running' AND pipeline_id = ANY(:pipeline_ids) AND store_code = ANY(:store_codes)
"""


@dataclasses.dataclass(frozen=True, slots=True)
class FailingWindow:
    """A window whose latest attempt failed or was partial."""

    from_date: dt.date
    to_date: dt.date
    status: str
    error_message: str | None
    attempts: int
    last_attempt_at: dt.datetime
    first_attempt_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class LogCoverage:
    """The log of one store + pipeline, as the status view reads it."""

    covered: tuple[DateRange, ...] = ()
    failing: tuple[FailingWindow, ...] = ()
    running: tuple[DateRange, ...] = ()
    last_success_at: dt.datetime | None = None
    stuck: tuple[StuckRange, ...] = ()


def load_coverage(
    conn: sa.Connection,
    *,
    pipeline_ids: Sequence[int],
    store_codes: Sequence[str],
    stuck_after: int = 2,
) -> dict[Key, LogCoverage]:
    """The coverage of every (pipeline_id, store_code) that has any log row.

    Args:
        stuck_after: R of the stuck days (interfaces.md "Stuck days"); 0: none reported.
    """
    if not pipeline_ids or not store_codes:
        return {}
    params: dict[str, object] = {
        "pipeline_ids": list(pipeline_ids),
        "store_codes": list(store_codes),
        "stuck_after": stuck_after,
    }
    covered = covered_islands(conn, params)
    failing: dict[Key, list[FailingWindow]] = defaultdict(list)
    for pid, code, first, last, status, error, failures, updated, since in conn.execute(
        sa.text(_FAILING_SQL), params
    ):
        failing[(int(pid), str(code))].append(
            FailingWindow(first, last, str(status), error, int(failures), updated, since)
        )
    running: dict[Key, list[DateRange]] = defaultdict(list)
    for pid, code, first, last in conn.execute(sa.text(_RUNNING_SQL), params):
        running[(int(pid), str(code))].append(DateRange(first, last))
    stuck = stuck_ranges(conn, params) if stuck_after > 0 else {}
    latest = {
        (int(pid), str(code)): at for pid, code, at in conn.execute(sa.text(_LATEST_SQL), params)
    }
    return {
        key: LogCoverage(
            covered=tuple(covered.get(key, ())),
            failing=tuple(failing.get(key, ())),
            running=tuple(running.get(key, ())),
            last_success_at=latest.get(key),
            stuck=tuple(stuck.get(key, ())),
        )
        for key in set(covered) | set(failing) | set(running) | set(latest) | set(stuck)
    }
