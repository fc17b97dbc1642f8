"""Coverage page benchmark (issue 23): a chain of 1,000 and of 10,000 stores with a year of
daily log rows (about 370 rows a store, in a throw-away embedded PostgreSQL), measured
through the page the plugin serves, in headless Chromium.

Per size it prints:

- the server's work: reading the statuses, building the page's JSON;
- the JSON: raw and gzip-compressed bytes (the plugin app gzips), and the status command's
  full JSON for the same stores (what the page used to carry);
- in the browser: load (navigation to the first rows painted), DOM elements, the page's
  height, and a sort and a filter (click to repaint, the page's own ``performance.now()``).

The page and its JSON are served here by a plain HTTP server (Airflow's login is not what is
measured); the JSON is exactly what ``GET /orders_sync/coverage.json`` returns. Figures are
this run's; they are not asserted anywhere. Usage::

    .venv/bin/python benchmarks/coverage_page.py [--sizes 1000 10000] [--days 60]
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pendulum  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from orders_sync.db.repositories.run_batches import latest_batches  # noqa: E402
from orders_sync.status.load import read_statuses  # noqa: E402
from orders_sync.status.page_payload import page_payload  # noqa: E402
from orders_sync_devtools import embedded_postgres as embedded  # noqa: E402
from orders_sync_devtools.chain import seed_chain  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TIMEZONE = "Asia/Kolkata"


def _serve(page: bytes, body: bytes) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.startswith("/coverage.json"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _browser_figures(url: str, reps: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            loads = []
            for _ in range(reps):
                began = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("body[data-state=ready]")
                loads.append(time.perf_counter() - began)
            elements = page.evaluate("document.getElementsByTagName('*').length")
            height = page.evaluate("document.documentElement.scrollHeight")
            sorts, filters = [], []
            for _ in range(reps):
                page.locator('th[data-key="store_code"]').click()
                sorts.append(float(page.evaluate("document.body.dataset.renderMs")))
                page.locator('th[data-key="days_behind"]').click()
                sorts.append(float(page.evaluate("document.body.dataset.renderMs")))
                page.locator('#overview button[data-health="failing"]').click()
                filters.append(float(page.evaluate("document.body.dataset.renderMs")))
                page.locator('#overview button[data-health="stores"]').click()
        finally:
            browser.close()
    return {
        "load_s": statistics.median(loads),
        "elements": float(elements),
        "height_px": float(height),
        "sort_ms": statistics.median(sorts),
        "filter_ms": statistics.median(filters),
    }


def measure(size: int, days: int, reps: int) -> dict[str, float]:
    """One chain of ``size`` stores, measured."""
    today = pendulum.today(TIMEZONE).date()
    with embedded.throwaway_server("orders_sync_bench_") as server:
        engine = sa.create_engine(server.url())
        log_rows = seed_chain(engine, size, today, dense=True)
        reads, builds = [], []
        payload: dict[str, Any] = {}
        statuses = []
        for _ in range(reps):
            began = time.perf_counter()
            with engine.connect() as conn:
                statuses = read_statuses(conn, today=today)
                batches = latest_batches(conn)
            read = time.perf_counter()
            payload = page_payload(statuses, today=today, timezone=TIMEZONE, days=days,
                                   max_days_behind=1, batches=batches)  # fmt: skip
            raw = json.dumps(payload).encode()
            builds.append(time.perf_counter() - read)
            reads.append(read - began)
        full = json.dumps({"stores": [s.to_json() for s in statuses]}).encode()
        engine.dispose()
    compressed = gzip.compress(raw, compresslevel=5)
    html = resources.files("orders_sync.airflow_support").joinpath("coverage.html").read_bytes()
    http_server = _serve(html, compressed)
    try:
        browser = _browser_figures(f"http://127.0.0.1:{http_server.server_port}/", reps)
    finally:
        http_server.shutdown()
    return {
        "stores": float(size),
        "log_rows": float(log_rows),
        "read_s": statistics.median(reads),
        "build_s": statistics.median(builds),
        "json_kb": len(raw) / 1024,
        "gzip_kb": len(compressed) / 1024,
        "full_json_kb": len(full) / 1024,
        **browser,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes:
        print(f"chain of {size:,} stores: seeding a year of daily log rows ...", flush=True)
        results.append(measure(size, args.days, args.reps))
    print(
        f"\n{'stores':>7} {'log rows':>10} {'read':>7} {'build':>7} {'json':>8} {'gzip':>7} "
        f"{'old json':>9} {'load':>7} {'DOM':>6} {'height':>7} {'sort':>7} {'filter':>7}"
    )
    for r in results:
        print(
            f"{r['stores']:>7,.0f} {r['log_rows']:>10,.0f} {r['read_s']:>6.2f}s "
            f"{r['build_s']:>6.2f}s {r['json_kb']:>6.0f}KB {r['gzip_kb']:>5.0f}KB "
            f"{r['full_json_kb']:>7.0f}KB {r['load_s']:>6.2f}s {r['elements']:>6,.0f} "
            f"{r['height_px']:>5,.0f}px {r['sort_ms']:>5.0f}ms {r['filter_ms']:>5.0f}ms"
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(
            f"\n{large['stores'] / small['stores']:.0f}x the stores: server read "
            f"x{large['read_s'] / small['read_s']:.1f}, gzip JSON "
            f"x{large['gzip_kb'] / small['gzip_kb']:.1f}, browser load "
            f"x{large['load_s'] / small['load_s']:.1f}, DOM elements "
            f"x{large['elements'] / small['elements']:.2f}, "
            f"sort x{large['sort_ms'] / max(small['sort_ms'], 0.1):.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
