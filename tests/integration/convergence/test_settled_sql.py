"""The SQL side of the settle pass agrees with a brute-force count of days.

``load_log_facts`` merges success windows into islands in PostgreSQL, and with S > 0 also
the *settled* days: a day ``d`` is settled when some ``success`` window covering ``d`` was
started (``created_at``, read as a date in the pipeline timezone) on or after ``d + S``.
Here random log rows are inserted into a real database and every fact is recomputed the
obvious way, day by day, in Python (``zoneinfo`` for the local date), including instants a
few seconds either side of local midnight and a timezone with daylight saving time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Iterable

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_sync.db.repositories.log_facts import load_log_facts
from orders_sync.domain import DateRange, LogFacts
from tests.support.seeding import TD_ORDERS_SYNC, UC_ORDERS_SYNC

ONE_DAY = dt.timedelta(days=1)
EPOCH = dt.date(2026, 1, 1)
STORES = ("S1", "S2")
STATUSES = ("success", "failed", "partial", "running")
MAX_ROWS = 24
TIMEZONES = ("Asia/Kolkata", "UTC", "America/New_York")
# UTC clock times around local midnights: IST 00:00 = 18:30 UTC; New York 00:00 = 04:00 or
# 05:00 UTC (EDT/EST); plus 23:30 UTC, which is already the next day in Asia/Kolkata.
EDGE_TIMES = (
    dt.time(0, 0),
    dt.time(3, 59, 59),
    dt.time(4, 0),
    dt.time(4, 59, 59),
    dt.time(5, 0),
    dt.time(12, 0),
    dt.time(18, 29, 59),
    dt.time(18, 30),
    dt.time(23, 30),
    dt.time(23, 59, 59),
)


@dataclasses.dataclass(frozen=True)
class LogRow:
    pipeline: str
    store_code: str
    from_date: dt.date
    to_date: dt.date
    status: str
    created_at: dt.datetime  # aware, UTC


@pytest.fixture
def log_db(engine: sa.Engine) -> tuple[sa.Engine, dict[str, int]]:
    """The test database with one run summary per possible row (the FK of ``run_id``)."""
    with engine.begin() as conn:
        ids = dict(
            conn.execute(
                sa.text("SELECT code, id FROM pipelines WHERE code IN (:td, :uc)"),
                {"td": TD_ORDERS_SYNC, "uc": UC_ORDERS_SYNC},
            ).all()
        )
        for n in range(MAX_ROWS):
            conn.execute(
                sa.text(
                    "INSERT INTO pipeline_run_summaries (run_id, pipeline_name, run_env, "
                    "started_at, report_date, overall_status) "
                    "VALUES (:run_id, 'test', 'test', now(), CURRENT_DATE, 'success')"
                ),
                {"run_id": f"run-{n}"},
            )
    return engine, {str(code): int(pid) for code, pid in ids.items()}


def _insert(engine: sa.Engine, ids: dict[str, int], rows: Iterable[LogRow]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM orders_sync_log"))
        for n, row in enumerate(rows):
            conn.execute(
                sa.text(
                    "INSERT INTO orders_sync_log (pipeline_id, run_id, run_env, store_code, "
                    "from_date, to_date, status, created_at) VALUES (:pipeline_id, :run_id, "
                    "'test', :store_code, :from_date, :to_date, :status, :created_at)"
                ),
                {
                    "pipeline_id": ids[row.pipeline],
                    "run_id": f"run-{n}",
                    "store_code": row.store_code,
                    "from_date": row.from_date,
                    "to_date": row.to_date,
                    "status": row.status,
                    "created_at": row.created_at,
                },
            )


def _load(
    engine: sa.Engine, ids: dict[str, int], *, overlap: int, today: dt.date, settle: int, tz: str
) -> dict[tuple[int, str], LogFacts]:
    with engine.connect() as conn:
        return load_log_facts(
            conn,
            pipeline_ids=sorted(ids.values()),
            store_codes=list(STORES),
            overlap_days=overlap,
            today=today,
            settle_days=settle,
            timezone=tz,
        )


# ---------------------------------------------------------------- brute force


def _days(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + ONE_DAY * n for n in range((last - first).days + 1)}


def _runs(days: Iterable[dt.date]) -> tuple[DateRange, ...]:
    """Maximal runs of consecutive days, in order."""
    runs: list[DateRange] = []
    for day in sorted(set(days)):
        if runs and runs[-1].end + ONE_DAY == day:
            runs[-1] = DateRange(runs[-1].start, day)
        else:
            runs.append(DateRange(day, day))
    return tuple(runs)


def _expected(
    rows: list[LogRow],
    ids: dict[str, int],
    *,
    overlap: int,
    today: dt.date,
    settle: int,
    tz: str,
) -> dict[tuple[int, str], LogFacts]:
    zone = zoneinfo.ZoneInfo(tz)
    facts: dict[tuple[int, str], LogFacts] = {}
    for pipeline, pid in ids.items():
        for store in STORES:
            ok = [
                r
                for r in rows
                if r.pipeline == pipeline and r.store_code == store and r.status == "success"
            ]
            if not ok:
                continue
            last = max(r.to_date for r in ok)
            covered = set().union(*(_days(r.from_date, r.to_date) for r in ok))
            settled: set[dt.date] = set()
            if settle > 0:
                for r in ok:
                    started_on = r.created_at.astimezone(zone).date()
                    settled |= {
                        d
                        for d in _days(r.from_date, r.to_date)
                        if d + settle * ONE_DAY <= started_on
                    }
            threshold = min(last - ONE_DAY * (overlap - 1), today)
            facts[(pid, store)] = LogFacts(
                last_success_to=last,
                success_windows=frozenset(
                    (r.from_date, r.to_date) for r in ok if r.to_date >= threshold
                ),
                covered=_runs(covered),
                settled=_runs(settled),
            )
    return facts


# ---------------------------------------------------------------- random logs


@st.composite
def log_rows(draw: st.DrawFn) -> list[LogRow]:
    rows: list[LogRow] = []
    for _ in range(draw(st.integers(0, MAX_ROWS))):
        start = EPOCH + ONE_DAY * draw(st.integers(0, 30))
        length = draw(st.sampled_from((0, 0, 0, 1, 2, 4, 9)))
        # started from a little before the window's start to weeks after its end
        started = start + ONE_DAY * draw(st.integers(-2, length + 20))
        clock = draw(
            st.one_of(
                st.sampled_from(EDGE_TIMES),
                st.times().map(lambda t: t.replace(microsecond=0)),
            )
        )
        rows.append(
            LogRow(
                pipeline=draw(st.sampled_from((TD_ORDERS_SYNC, UC_ORDERS_SYNC))),
                store_code=draw(st.sampled_from(STORES)),
                from_date=start,
                to_date=start + ONE_DAY * length,
                status=draw(st.sampled_from(("success", "success", *STATUSES))),
                created_at=dt.datetime.combine(started, clock, tzinfo=dt.UTC),
            )
        )
    return rows


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=log_rows(),
    settle=st.sampled_from((0, 1, 3, 11)),
    overlap=st.integers(0, 3),
    today_offset=st.integers(0, 50),
    tz=st.sampled_from(TIMEZONES),
)
def test_log_facts_match_brute_force(
    log_db: tuple[sa.Engine, dict[str, int]],
    rows: list[LogRow],
    settle: int,
    overlap: int,
    today_offset: int,
    tz: str,
) -> None:
    engine, ids = log_db
    today = EPOCH + ONE_DAY * today_offset
    _insert(engine, ids, rows)
    got = _load(engine, ids, overlap=overlap, today=today, settle=settle, tz=tz)
    want = _expected(rows, ids, overlap=overlap, today=today, settle=settle, tz=tz)
    assert got == want


# ---------------------------------------------------------------- named edge cases

JAN_1 = dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    ("created_at_utc", "tz", "settled"),
    [
        # 23:30 UTC on Jan 10 is 05:00 on Jan 11 in Asia/Kolkata: started on d + 10.
        (dt.datetime(2026, 1, 10, 23, 30, tzinfo=dt.UTC), "Asia/Kolkata", True),
        (dt.datetime(2026, 1, 10, 23, 30, tzinfo=dt.UTC), "UTC", False),
        # one second either side of midnight in Asia/Kolkata (18:30 UTC)
        (dt.datetime(2026, 1, 10, 18, 29, 59, tzinfo=dt.UTC), "Asia/Kolkata", False),
        (dt.datetime(2026, 1, 10, 18, 30, 0, tzinfo=dt.UTC), "Asia/Kolkata", True),
        # 03:00 UTC on Jan 11 is still Jan 10 in New York (EST, UTC-5)
        (dt.datetime(2026, 1, 11, 3, 0, tzinfo=dt.UTC), "America/New_York", False),
        (dt.datetime(2026, 1, 11, 3, 0, tzinfo=dt.UTC), "UTC", True),
        (dt.datetime(2026, 1, 11, 5, 0, tzinfo=dt.UTC), "America/New_York", True),
    ],
)
def test_settled_uses_the_local_date_of_created_at(
    log_db: tuple[sa.Engine, dict[str, int]],
    created_at_utc: dt.datetime,
    tz: str,
    settled: bool,
) -> None:
    engine, ids = log_db
    first = LogRow(
        TD_ORDERS_SYNC,
        "S1",
        JAN_1,
        JAN_1,
        "success",
        dt.datetime(2026, 1, 1, 15, 30, tzinfo=dt.UTC),
    )
    again = LogRow(TD_ORDERS_SYNC, "S1", JAN_1, JAN_1, "success", created_at_utc)
    _insert(engine, ids, [first, again])
    facts = _load(engine, ids, overlap=1, today=dt.date(2026, 1, 20), settle=10, tz=tz)
    key = (ids[TD_ORDERS_SYNC], "S1")
    assert facts[key].settled == ((DateRange(JAN_1, JAN_1),) if settled else ())
    assert facts[key].covered == (DateRange(JAN_1, JAN_1),)


def test_only_success_rows_settle(log_db: tuple[sa.Engine, dict[str, int]]) -> None:
    engine, ids = log_db
    late = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
    rows = [
        LogRow(UC_ORDERS_SYNC, "S2", JAN_1, JAN_1 + ONE_DAY * 4, "success", late - ONE_DAY * 30),
        *(
            LogRow(UC_ORDERS_SYNC, "S2", JAN_1, JAN_1 + ONE_DAY * 4, status, late)
            for status in ("failed", "partial", "running")
        ),
        # a later success of part of the window settles just that part
        LogRow(UC_ORDERS_SYNC, "S2", JAN_1 + ONE_DAY, JAN_1 + ONE_DAY * 2, "success", late),
    ]
    _insert(engine, ids, rows)
    facts = _load(engine, ids, overlap=1, today=late.date(), settle=11, tz="Asia/Kolkata")
    key = (ids[UC_ORDERS_SYNC], "S2")
    assert facts[key].covered == (DateRange(JAN_1, JAN_1 + ONE_DAY * 4),)
    assert facts[key].settled == (DateRange(JAN_1 + ONE_DAY, JAN_1 + ONE_DAY * 2),)
