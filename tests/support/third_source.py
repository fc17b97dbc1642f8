"""A third CRM, declared by the tests only: the proof that a source is one declaration.

``SOURCE`` is the ``XX`` source — receipts of a tiny HTTP CRM (:class:`ReceiptCrm`) into the
table ``xx_receipts`` — registered through the ``orders_sync.sources`` entry-point group by a
distribution the test writes (:func:`install_entry_point`), exactly as a deployment would add
one. No production module knows it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from orders_sync.sources.spec import Source, SourcePart, data_table

SYNC_GROUP = "XX"
PIPELINE = "xx_orders_sync"
TOKEN = "xx-test-token"
STORES = ["X001", "X002"]
HISTORY_DAYS = 40
TABLE_DDL = """
CREATE TABLE xx_receipts (
    id BIGSERIAL PRIMARY KEY,
    store_code VARCHAR(8) NOT NULL,
    receipt_no VARCHAR(64) NOT NULL,
    receipt_date DATE NOT NULL,
    amount NUMERIC(12, 2) NOT NULL,
    last_modified TIMESTAMPTZ NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_run_id VARCHAR(64),
    CONSTRAINT uq_xx_receipts UNIQUE (store_code, receipt_no)
)
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Receipt:
    """One receipt of the XX CRM."""

    receipt_no: str
    receipt_date: dt.date
    amount: Decimal
    last_modified: dt.datetime


def receipts_of(store_code: str, day: dt.date) -> list[Receipt]:
    """The XX CRM's data: two receipts a day per store, a pure function of both."""
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [
        Receipt(f"{store_code}-{day.isoformat()}-{n}", day, Decimal(f"{day.day}.{n}0"), stamp)
        for n in (1, 2)
    ]


class ReceiptClient:
    """The XX CRM's client: ``GET /receipts?store=&from=&to=`` with ``X-Token``."""

    def __init__(self, base_url: str, token: str, **_http_options: Any) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, headers={"X-Token": token}, timeout=10)

    def iter_receipt_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[Receipt]]:
        reply = self._http.get(
            "/receipts",
            params={"store": store_code, "from": from_date.isoformat(), "to": to_date.isoformat()},
        )
        reply.raise_for_status()
        yield [
            Receipt(
                r["receipt_no"],
                dt.date.fromisoformat(r["receipt_date"]),
                Decimal(r["amount"]),
                dt.datetime.fromisoformat(r["last_modified"]),
            )
            for r in reply.json()
        ]

    def close(self) -> None:
        self._http.close()


XX_RECEIPTS = data_table("xx_receipts", "receipt_no", Receipt, date_column="receipt_date")
SOURCE = Source(
    sync_group=SYNC_GROUP,
    pipeline_code=PIPELINE,
    title="XX receipts API",
    env_prefix="XX_API",
    connection_id="xx_crm",
    client=ReceiptClient,
    parts=(SourcePart("receipts", "orders", "iter_receipt_pages", XX_RECEIPTS),),
)


class ReceiptCrm(http.server.ThreadingHTTPServer):
    """The XX CRM over loopback HTTP; stores in ``failing`` answer 500."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.requests = 0
        crm = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                crm.requests += 1
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if self.headers.get("X-Token") != TOKEN:
                    self.send_error(401)
                    return
                if url.path != "/receipts" or query.get("store") in crm.failing:
                    self.send_error(500 if url.path == "/receipts" else 404)
                    return
                first = dt.date.fromisoformat(query["from"])
                last = dt.date.fromisoformat(query["to"])
                rows = [
                    {
                        "receipt_no": r.receipt_no,
                        "receipt_date": r.receipt_date.isoformat(),
                        "amount": str(r.amount),
                        "last_modified": r.last_modified.isoformat(),
                    }
                    for n in range((last - first).days + 1)
                    for r in receipts_of(query["store"], first + dt.timedelta(days=n))
                ]
                body = json.dumps(rows).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> ReceiptCrm:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def install_entry_point(site: Path) -> Path:
    """Write a distribution into ``site`` that registers :data:`SOURCE` in the
    ``orders_sync.sources`` entry-point group; put ``site`` on ``PYTHONPATH`` to use it."""
    dist = site / "xx_orders_sync_source-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: xx-orders-sync-source\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(
        f"[orders_sync.sources]\n{SYNC_GROUP} = {__name__}:SOURCE\n\n"
        f"[orders_sync.data_tables]\n{XX_RECEIPTS.name} = {__name__}:XX_RECEIPTS\n"
    )
    return site


def create_tables(engine: sa.Engine, store_codes: list[str], start_date: dt.date) -> None:
    """What the source's own migration would make: its table, its ``pipelines`` row; and
    its stores in ``store_master``."""
    with engine.begin() as conn:
        conn.execute(sa.text(TABLE_DDL))
        conn.execute(sa.text("INSERT INTO pipelines (code) VALUES (:code)"), {"code": PIPELINE})
        for code in store_codes:
            conn.execute(
                sa.text(
                    "INSERT INTO store_master (store_code, store_name, sync_group, cost_center,"
                    " start_date, is_active) VALUES (:code, :name, :group, 'CC9', :start, true)"
                ),
                {"code": code, "name": code, "group": SYNC_GROUP, "start": start_date},
            )
