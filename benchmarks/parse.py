"""Parse benchmark: CPU per 500-row source page, the strict hand-written validator vs the
msgspec fast path (``orders_sync.sources.wire``), on the simulator's realistic rows.

Both produce equal rows (checked here too). Usage::

    .venv/bin/python benchmarks/parse.py [--pages 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orders_sync.sources import wire  # noqa: E402
from orders_sync.sources.errors import PageContext  # noqa: E402
from orders_sync.sources.models import TdOrder  # noqa: E402
from orders_sync.sources.td_client import _parse_page as td_parse  # noqa: E402
from orders_sync.sources.uc_client import _parse_page as uc_parse  # noqa: E402
from orders_sync_devtools.simulator.clock import IST  # noqa: E402
from orders_sync_devtools.simulator.dataset import SimulatedDataset  # noqa: E402

ROWS = 500
NOW = dt.datetime(2026, 1, 20, 12, 0, tzinfo=IST)
CONTEXT = PageContext("A001", "/x", dt.date(2025, 1, 1), dt.date(2026, 1, 19), 1)


def cpu_ms_per_page(fn: Callable[[], Any], pages: int) -> float:
    fn()  # warm-up
    began = time.process_time()
    for _ in range(pages):
        fn()
    return (time.process_time() - began) / pages * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args(argv)
    data = SimulatedDataset(seed=42)
    first = dt.date(2025, 1, 1)
    orders = data.td_orders("A001", first, dt.date(2026, 1, 19), NOW)[:ROWS]
    lines = data.uc_gst("UC104", first, dt.date(2026, 1, 19), NOW)[:ROWS]
    td_body = json.dumps(
        {"data": [o.to_json() for o in orders], "pagination": {"total_pages": 1}}
    ).encode()
    uc_body = json.dumps({"items": [g.to_json() for g in lines], "next_cursor": None}).encode()
    assert wire.td_order_page(td_body) == td_parse(json.loads(td_body), TdOrder.from_json, CONTEXT)
    assert wire.uc_page(uc_body) == uc_parse(json.loads(uc_body), CONTEXT)

    results = [
        ("TD orders", len(orders),
         cpu_ms_per_page(lambda: td_parse(json.loads(td_body), TdOrder.from_json, CONTEXT),
                         args.pages),
         cpu_ms_per_page(lambda: wire.td_order_page(td_body), args.pages)),
        ("UC GST lines", len(lines),
         cpu_ms_per_page(lambda: uc_parse(json.loads(uc_body), CONTEXT), args.pages),
         cpu_ms_per_page(lambda: wire.uc_page(uc_body), args.pages)),
    ]  # fmt: skip
    print(f"{'page':<14} {'rows':>5} {'strict (ms)':>12} {'msgspec (ms)':>13} {'speed-up':>9}")
    for name, rows, strict, fast in results:
        print(f"{name:<14} {rows:>5} {strict:>12.2f} {fast:>13.2f} {strict / fast:>8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
