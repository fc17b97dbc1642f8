"""What ``orders_sync_log`` says about each store + pipeline: the planner's input.

Set-based: a fixed number of statements per run whatever the number of stores (two, plus
one with a settle pass and one for stuck days), each an ordered scan of
``ix_orders_sync_log_lookup``. Success
windows are merged into islands in SQL (``range_agg``), so only a few rows per store
come back even with years of daily history.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa

from orders_sync.domain import DateRange, LogFacts

Key = tuple[int, str]

# Merge [from_date, <end>] of the success rows into islands of consecutive days: one
# aggregate per store (range_agg, PostgreSQL 14+) — adjacent and overlapping day ranges fuse
# into one, as the gaps-and-islands window functions did, in one pass instead of two sorts.
_ISLANDS_SQL = """
SELECT pipeline_id, store_code, lower(island), upper(island) - 1
FROM (
    SELECT pipeline_id, store_code,
           unnest(range_agg(daterange(from_date, {end}, '[]'))) AS island
    FROM orders_sync_log
    WHERE status = 'success' AND pipeline_id = ANY(:pipeline_ids)
      AND store_code = ANY(:store_codes) AND {end} >= from_date
    GROUP BY pipeline_id, store_code
) AS islands
ORDER BY pipeline_id, store_code, lower(island)
"""

# Exact success windows the execution rule can still match (see LogFacts.success_windows).
_RECENT_WINDOWS_SQL = """
WITH last AS (
    SELECT pipeline_id, store_code, MAX(to_date) AS last_to
    FROM orders_sync_log
    WHERE status = 'success' AND pipeline_id = ANY(:pipeline_ids)
      AND store_code = ANY(:store_codes)
    GROUP BY pipeline_id, store_code
)
SELECT DISTINCT l.pipeline_id, l.store_code, l.from_date, l.to_date
FROM orders_sync_log l
JOIN last ON last.pipeline_id = l.pipeline_id AND last.store_code = l.store_code
WHERE l.status = 'success'
  AND l.to_date >= LEAST(last.last_to - :overlap_days + 1, CAST(:today AS DATE))
"""


# Stuck days (interfaces.md "Stuck days"): days of failed/partial windows — failed by the
# source or its data, not closed as abandoned/interrupted — counted per distinct run among
# the failures no success covering that day came after; R or more such runs: stuck.
_STUCK_DAYS_SQL = """
WITH failures AS (
    SELECT id, pipeline_id, store_code, run_id, from_date, to_date, created_at
    FROM orders_sync_log
    WHERE status IN ('failed', 'partial') AND pipeline_id = ANY(:pipeline_ids)
      AND store_code = ANY(:store_codes)
      AND close_reason IS NULL
), repeated AS (
    -- only stores that failed in R distinct runs at all can have a stuck day
    SELECT pipeline_id, store_code FROM failures
    GROUP BY pipeline_id, store_code HAVING COUNT(DISTINCT run_id) >= :stuck_after
), open_failures AS (
    -- a failure whose exact window succeeded later is healed whole (one index probe)
    SELECT f.* FROM failures f JOIN repeated USING (pipeline_id, store_code)
    WHERE NOT EXISTS (
        SELECT 1 FROM orders_sync_log s
        WHERE s.pipeline_id = f.pipeline_id AND s.store_code = f.store_code
          AND s.from_date = f.from_date AND s.to_date = f.to_date
          AND s.status = 'success' AND s.created_at > f.created_at
    )
), later_successes AS MATERIALIZED (
    -- only a success after a store's first open failure can heal one of its days: few rows
    -- (one index range per store), not the store's whole history once per failed day
    SELECT s.pipeline_id, s.store_code, s.from_date, s.to_date, s.created_at
    FROM (SELECT pipeline_id, store_code, MIN(created_at) AS since
          FROM open_failures GROUP BY pipeline_id, store_code) first_failure
    JOIN orders_sync_log s
      ON s.pipeline_id = first_failure.pipeline_id AND s.store_code = first_failure.store_code
    WHERE s.status = 'success' AND s.created_at > first_failure.since
), failed_days AS (
    SELECT f.pipeline_id, f.store_code, f.run_id, f.created_at, CAST(d AS DATE) AS day
    FROM open_failures f, generate_series(f.from_date, f.to_date, interval '1 day') AS d
    WHERE NOT EXISTS (
        SELECT 1 FROM later_successes s
        WHERE s.pipeline_id = f.pipeline_id
          AND s.store_code = f.store_code AND s.from_date <= CAST(d AS DATE)
          AND s.to_date >= CAST(d AS DATE) AND s.created_at > f.created_at
    )
)
SELECT pipeline_id, store_code, day, COUNT(DISTINCT run_id) AS runs, MIN(created_at) AS since
FROM failed_days
GROUP BY pipeline_id, store_code, day
HAVING COUNT(DISTINCT run_id) >= :stuck_after
ORDER BY pipeline_id, store_code, day
"""


@dataclasses.dataclass(frozen=True, slots=True)
class StuckRange:
    """Consecutive stuck days of one store + pipeline.

    Attributes:
        days: the days.
        attempts: the most distinct failing runs of any of its days.
        since: when the first of those failures started.
    """

    days: DateRange
    attempts: int
    since: dt.datetime


def stuck_ranges(conn: sa.Connection, params: dict[str, object]) -> dict[Key, list[StuckRange]]:
    """The stuck days of every (pipeline_id, store_code) of ``params`` (``pipeline_ids``,
    ``store_codes``, ``stuck_after``), merged into ranges of consecutive days."""
    stuck: dict[Key, list[StuckRange]] = defaultdict(list)
    for pipeline_id, store_code, day, runs, since in conn.execute(sa.text(_STUCK_DAYS_SQL), params):
        ranges = stuck[(int(pipeline_id), str(store_code))]
        last = ranges[-1] if ranges else None
        if last is not None and last.days.end + dt.timedelta(days=1) == day:
            ranges[-1] = StuckRange(
                DateRange(last.days.start, day),
                max(last.attempts, int(runs)),
                min(last.since, since),
            )
        else:
            ranges.append(StuckRange(DateRange(day, day), int(runs), since))
    return stuck


def _islands(
    conn: sa.Connection, end_sql: str, params: dict[str, object]
) -> dict[Key, list[DateRange]]:
    islands: dict[Key, list[DateRange]] = defaultdict(list)
    for pipeline_id, store_code, start, end in conn.execute(
        sa.text(_ISLANDS_SQL.format(end=end_sql)), params
    ):
        islands[(int(pipeline_id), str(store_code))].append(DateRange(start, end))
    return islands


def covered_islands(conn: sa.Connection, params: dict[str, object]) -> dict[Key, list[DateRange]]:
    """The merged success windows (islands) of every (pipeline_id, store_code) of ``params``
    (``pipeline_ids``, ``store_codes``): what "covered" means, for the planner and the status."""
    return _islands(conn, "to_date", params)


def load_log_facts(
    conn: sa.Connection,
    *,
    pipeline_ids: Sequence[int],
    store_codes: Sequence[str],
    overlap_days: int,
    today: dt.date,
    settle_days: int = 0,
    timezone: str = "UTC",
    stuck_after: int = 0,
) -> dict[Key, LogFacts]:
    """Log facts of every (pipeline_id, store_code) with a success window or stuck days.

    Args:
        overlap_days: K; decides which exact success windows are still worth returning.
        today: today in the pipeline timezone.
        settle_days: S; when above 0 the settled islands are computed too.
        timezone: the pipeline timezone, in which ``created_at`` becomes a start date.
        stuck_after: R; when above 0 the stuck days are computed too.
    """
    params: dict[str, object] = {
        "pipeline_ids": list(pipeline_ids),
        "store_codes": list(store_codes),
        "overlap_days": overlap_days,
        "today": today,
        "settle_days": settle_days,
        "tz": timezone,
        "stuck_after": stuck_after,
    }
    if not store_codes or not pipeline_ids:
        return {}
    covered = covered_islands(conn, params)
    recent: dict[Key, set[tuple[dt.date, dt.date]]] = defaultdict(set)
    for pipeline_id, store_code, from_date, to_date in conn.execute(
        sa.text(_RECENT_WINDOWS_SQL), params
    ):
        recent[(int(pipeline_id), str(store_code))].add((from_date, to_date))
    settled: dict[Key, list[DateRange]] = {}
    if settle_days > 0:
        settled = _islands(
            conn,
            "LEAST(to_date, CAST((created_at AT TIME ZONE :tz) AS DATE) - :settle_days)",
            params,
        )
    stuck = (
        {key: [r.days for r in ranges] for key, ranges in stuck_ranges(conn, params).items()}
        if stuck_after > 0
        else {}
    )
    return {
        key: LogFacts(
            last_success_to=covered[key][-1].end if covered.get(key) else None,
            success_windows=frozenset(recent.get(key, ())),
            covered=tuple(covered.get(key, ())),
            settled=tuple(settled.get(key, ())),
            stuck=tuple(stuck.get(key, ())),
        )
        for key in sorted(set(covered) | set(stuck))
    }
