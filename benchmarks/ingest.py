"""Ingest benchmark: how fast TD orders reach ``td_orders``, four ways, in one run.

Loads generated TD order rows (default 200,000) into a fresh, throw-away embedded
PostgreSQL (fsync off, like the test server) and prints rows/second and the ratios of:

(a) plain ``COPY`` into the empty ``td_orders`` — the physical limit here (text and binary);
(b) the pipeline's upsert path (``pipelines.page_writer.PageWriter`` over
    ``repositories.orders_data``): 500-row source pages, whole pages batched 5,000 rows
    per transaction, exactly as a window writes them; for context also (b1) one
    transaction per page;
(c) a naive ``executemany`` of ``INSERT ... ON CONFLICT DO UPDATE`` (SQLAlchemy
    ``conn.execute(text(...), [params, ...])``, one statement per row), one transaction
    per page like (b) — on a subset, its rows/second extrapolated; for context also
    (c2) a plain loop of one ``execute`` per row;
(d) (b) again over the same rows, unchanged: must write no new row version.

Every path starts from the same ``TdOrder`` objects, so each pays its own Python-side
conversion; the engine is the project's own (``orders_sync.db.engine.get_engine``).

Goals (issue 13, was 40 % in issue 4): (b) >= 60% of (a), (a) being the faster of a text and
a binary plain ``COPY``; (b) >= 10x (c); (d) at least as fast as (b) with no new row
versions. Each path runs ``--repeat`` times (interleaved) and its best time counts, which
keeps a busy machine's noise out of the ratios. Exit status 1 only when the data is wrong
(rows missing, or new row versions on the unchanged re-upsert); a missed
speed goal is printed, not fatal. Usage::

    .venv/bin/python benchmarks/ingest.py [--rows 200000] [--naive-rows 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import operator
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orders_sync.config import Settings  # noqa: E402
from orders_sync.db.engine import get_engine  # noqa: E402
from orders_sync.db.repositories.orders_data import UpsertCounts  # noqa: E402
from orders_sync.pipelines.page_writer import DEFAULT_BATCH_ROWS, PageWriter  # noqa: E402
from orders_sync.sources.models import ORDER_STATUSES, TdOrder  # noqa: E402
from orders_sync.sources.td import TD_ORDERS  # noqa: E402
from orders_sync.sources.td_client import MAX_PAGE_SIZE  # noqa: E402
from orders_sync_devtools import embedded_postgres as embedded  # noqa: E402
from tests.support.data_probes import row_versions  # noqa: E402

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
STORES = 20
RUN_ID = "benchmark"
_VALUES = operator.attrgetter(*TD_ORDERS.fields)


def generate(rows: int, seed: int = 1) -> dict[str, list[TdOrder]]:
    """``rows`` distinct TD orders spread over ``STORES`` stores and 90 days."""
    rng = random.Random(seed)
    statuses = sorted(ORDER_STATUSES)
    by_store: dict[str, list[TdOrder]] = {f"B{n:03d}": [] for n in range(STORES)}
    codes = list(by_store)
    start = dt.date(2026, 1, 1)
    for n in range(rows):
        store = codes[n % STORES]
        day = start + dt.timedelta(days=rng.randrange(90))
        gross = Decimal(rng.randrange(10_000, 500_000)) / 100
        discount = Decimal(rng.randrange(0, 5_000)) / 100
        by_store[store].append(
            TdOrder(
                order_number=f"{store}-{n:08d}",
                order_date=day,
                order_time=dt.time(rng.randrange(9, 21), rng.randrange(60), rng.randrange(60)),
                customer_name=f"Customer {rng.randrange(100_000)}",
                mobile_number=f"9{rng.randrange(10**9):09d}",
                service_type=rng.choice(["Dry Clean", "Wash & Fold", "Steam Iron"]),
                pieces=rng.randrange(1, 15),
                gross_amount=gross,
                discount_amount=discount,
                net_amount=gross - discount,
                order_status=rng.choice(statuses),
                last_modified=dt.datetime.combine(day, dt.time(21, 0), IST),
            )
        )
    return by_store


def pages(by_store: dict[str, list[TdOrder]], size: int) -> Iterator[tuple[str, list[TdOrder]]]:
    """Source-sized pages, store by store."""
    for store, orders in by_store.items():
        for i in range(0, len(orders), size):
            yield store, orders[i : i + size]


def subset(by_store: dict[str, list[TdOrder]], rows: int) -> dict[str, list[TdOrder]]:
    """The first ``rows`` rows, spread over the stores as evenly as the data is."""
    per_store = max(1, rows // len(by_store))
    return {store: orders[:per_store] for store, orders in by_store.items()}


def truncate(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE td_orders"))
    vacuum(engine)


def vacuum(engine: sa.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE td_orders"))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def plain_copy(
    engine: sa.Engine, by_store: dict[str, list[TdOrder]], *, binary: bool = False
) -> int:
    """(a): one ``COPY`` of every row straight into the table (text, as the pipeline writes,
    or binary with the column types declared)."""
    columns = (*TD_ORDERS.copy_columns, "last_run_id")
    options = " (FORMAT BINARY)" if binary else ""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY td_orders ({', '.join(columns)}) FROM STDIN{options}") as copy,
        ):
            if binary:
                copy.set_types(list(TD_ORDERS.types))
            for store, orders in by_store.items():
                for order in orders:
                    copy.write_row((store, *_VALUES(order), RUN_ID))
    return sum(len(orders) for orders in by_store.values())


def pipeline_upsert(
    engine: sa.Engine, by_store: dict[str, list[TdOrder]], batch_rows: int = DEFAULT_BATCH_ROWS
) -> UpsertCounts:
    """(b) and (d): the pipeline's own writer over 500-row source pages, store by store."""
    total = UpsertCounts()
    for store, orders in by_store.items():
        writer = PageWriter(
            engine, TD_ORDERS, store_code=store, run_id=RUN_ID, batch_rows=batch_rows
        )
        total += writer.write_all(page for _, page in pages({store: orders}, MAX_PAGE_SIZE))
    return total


def _transactions(
    by_store: dict[str, list[TdOrder]],
) -> Iterator[list[tuple[str, list[TdOrder]]]]:
    """Pages grouped into transactions exactly as the pipeline's writer groups them."""
    for store, orders in by_store.items():
        group: list[tuple[str, list[TdOrder]]] = []
        rows = 0
        for page in pages({store: orders}, MAX_PAGE_SIZE):
            group.append(page)
            rows += len(page[1])
            if rows >= DEFAULT_BATCH_ROWS:
                yield group
                group, rows = [], 0
        if group:
            yield group


_NAIVE_COLUMNS = (*TD_ORDERS.copy_columns, "last_run_id")
_NAIVE_SQL = f"""
    INSERT INTO td_orders ({", ".join(_NAIVE_COLUMNS)})
    VALUES ({", ".join(f":{c}" for c in _NAIVE_COLUMNS)})
    ON CONFLICT (store_code, order_number) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in TD_ORDERS.value_columns)},
        last_synced_at = now(), last_run_id = EXCLUDED.last_run_id
"""


def _params(store: str, page: list[TdOrder]) -> list[dict[str, object]]:
    return [dict(zip(_NAIVE_COLUMNS, (store, *_VALUES(o), RUN_ID), strict=True)) for o in page]


def naive_executemany(engine: sa.Engine, by_store: dict[str, list[TdOrder]]) -> int:
    """(c): one ``executemany`` of a one-row upsert per page, transactions as (b)'s."""
    done = 0
    statement = sa.text(_NAIVE_SQL)
    for group in _transactions(by_store):
        with engine.begin() as conn:
            for store, page in group:
                conn.execute(statement, _params(store, page))
                done += len(page)
    return done


def naive_loop(engine: sa.Engine, by_store: dict[str, list[TdOrder]]) -> int:
    """(c2): one ``execute`` per row, transactions as (b)'s."""
    done = 0
    statement = sa.text(_NAIVE_SQL)
    for group in _transactions(by_store):
        with engine.begin() as conn:
            for store, page in group:
                for params in _params(store, page):
                    conn.execute(statement, params)
                done += len(page)
    return done


def table_size(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_relation_size('td_orders')")).scalar_one())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the best counts")
    args = parser.parse_args(argv)

    print("starting a throw-away PostgreSQL (fsync off) ...", flush=True)
    with embedded.throwaway_server("orders_sync_bench_") as server:
        settings = Settings(database_url=server.url(), state_dir=server.pgdata.parent)
        return run(get_engine(settings), args.rows, args.naive_rows, args.repeat)


@dataclasses.dataclass
class Timings:
    """Best (lowest) seconds of each path over the repetitions."""

    best: dict[str, float] = dataclasses.field(default_factory=dict)

    def record(self, path: str, seconds: float) -> None:
        self.best[path] = min(seconds, self.best.get(path, seconds))


def run(engine: sa.Engine, rows: int, naive_rows: int, repeat: int) -> int:
    print(f"generating {rows:,} TD orders over {STORES} stores ...", flush=True)
    data = generate(rows)
    naive = subset(data, min(naive_rows, rows))
    naive_n = sum(len(v) for v in naive.values())
    timings = Timings()
    all_inserted = no_new_versions = True
    size_before = size_after = 0
    last_again = UpsertCounts()

    for rep in range(1, repeat + 1):
        print(f"repetition {rep} of {repeat} ...", flush=True)
        truncate(engine)
        timings.record("a_text", timed(lambda: plain_copy(engine, data))[0])
        truncate(engine)
        timings.record("a_binary", timed(lambda: plain_copy(engine, data, binary=True))[0])
        truncate(engine)
        seconds, counts = timed(lambda: pipeline_upsert(engine, data))
        timings.record("b", seconds)
        assert isinstance(counts, UpsertCounts)
        all_inserted &= counts.inserted == rows
        vacuum(engine)
        with engine.connect() as conn:
            before = row_versions(conn, TD_ORDERS)
        size_before = table_size(engine)
        seconds, again = timed(lambda: pipeline_upsert(engine, data))
        timings.record("d", seconds)
        assert isinstance(again, UpsertCounts)
        last_again = again
        with engine.connect() as conn:
            no_new_versions &= row_versions(conn, TD_ORDERS) == before
        no_new_versions &= again.inserted == again.updated == 0
        size_after = table_size(engine)
        truncate(engine)
        timings.record("b1", timed(lambda: pipeline_upsert(engine, data, batch_rows=1))[0])
        truncate(engine)
        timings.record("c", timed(lambda: naive_executemany(engine, naive))[0])
        truncate(engine)
        timings.record("c2", timed(lambda: naive_loop(engine, naive))[0])

    best = timings.best
    best["a"] = min(best["a_text"], best["a_binary"])  # the faster plain COPY is the limit
    rate = {path: (naive_n if path.startswith("c") else rows) / best[path] for path in best}
    goal_a = rate["b"] >= 0.6 * rate["a"]
    goal_c = rate["b"] >= 10 * rate["c"]
    goal_d = rate["d"] >= rate["b"] and no_new_versions
    labels = {
        "a_text": "(a) plain COPY into empty td_orders, text",
        "a_binary": "(a) plain COPY into empty td_orders, binary",
        "b": f"(b) pipeline upsert (500-row pages, {DEFAULT_BATCH_ROWS}/transaction)",
        "b1": "(b1) same, one page per transaction",
        "c": "(c) naive executemany INSERT ON CONFLICT",
        "c2": "(c2) naive loop, one execute per row",
        "d": "(d) (b) again, all rows unchanged",
    }
    print()
    print(f"best of {repeat} runs; every path starts from the same TdOrder objects")
    print(f"{'path':<56} {'rows':>9} {'seconds':>8} {'rows/s':>10}")
    for path in ("a_text", "a_binary", "b", "b1", "c", "c2", "d"):
        n = naive_n if path.startswith("c") else rows
        print(f"{labels[path]:<56} {n:>9,} {best[path]:>8.2f} {rate[path]:>10,.0f}")
    print()
    if naive_n < rows:
        print(
            f"(c) and (c2) ran on {naive_n:,} of the {rows:,} rows (same pages, same "
            "transactions as (b)); their rows/s are extrapolated to the full load."
        )
    verdict = {True: "met", False: "MISSED"}
    print(
        f"(b)/(a)  = {rate['b'] / rate['a']:6.1%}   (a: the faster plain COPY)   goal >= 60%   "
        f"{verdict[goal_a]}"
    )
    print(f"(b)/(c)  = {rate['b'] / rate['c']:6.1f}x  goal >= 10x   {verdict[goal_c]}")
    print(f"(b)/(c2) = {rate['b'] / rate['c2']:6.1f}x  (context)")
    print(f"(a)/(c)  = {rate['a'] / rate['c']:6.1f}x  (ceiling of (b)/(c): no upsert beats (a))")
    print(
        f"(d)/(b)  = {rate['d'] / rate['b']:6.2f}x  goal >= 1x with no new row versions "
        f"({'none' if no_new_versions else 'SOME'}: inserted={last_again.inserted} "
        f"updated={last_again.updated}, heap {size_before:,} -> {size_after:,} bytes)   "
        f"{verdict[goal_d]}"
    )
    return 0 if all_inserted and no_new_versions else 1


if __name__ == "__main__":
    raise SystemExit(main())
