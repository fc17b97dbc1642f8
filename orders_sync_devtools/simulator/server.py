"""The CRM simulator: both APIs of the contract on one threaded loopback HTTP server.

Use it in-process::

    with SimulatorServer(seed=7, clock=some_aware_datetime) as sim:
        client = TdClient(sim.base_url, "any-token")
        sim.faults.rate_limit(2)
        sim.advance_clock(dt.timedelta(days=1))
        assert client.fetch_orders("A001", d1, d2) == sim.truth_td_orders("A001", d1, d2)

or as a process (``scripts/crm_simulator.sh``), driven over ``/_sim/`` (see :mod:`admin`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from orders_sync.sources.models import TdOrder, TdSale, UcGstLine
from orders_sync_devtools.simulator import admin
from orders_sync_devtools.simulator.clock import SourceClock
from orders_sync_devtools.simulator.dataset import SimulatedDataset
from orders_sync_devtools.simulator.faults import FaultPlan
from orders_sync_devtools.simulator.routes import ContractApi, Reply, error
from orders_sync_devtools.simulator.stats import RequestStats, SimulatorStats

logger = logging.getLogger(__name__)
_JSON = msgspec.json.Encoder()

DEFAULT_SEED = 42
_MAX_BODY = 1 << 20


class SimulatorServer:
    """The simulated TD and UC CRMs, served over HTTP on one base URL.

    Args:
        seed: the data seed; the same seed always gives the same data.
        stores: store codes served (others get 404); ``None`` serves every code.
        td_token: the only TD token accepted; ``None`` accepts any non-empty token.
        uc_token: the only UC token accepted; ``None`` accepts any non-empty token.
        clock: an aware instant to freeze the source clock at; ``None`` is the real clock.
        latency_s: delay added to every API request.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        stores: Iterable[str] | None = None,
        td_token: str | None = None,
        uc_token: str | None = None,
        clock: dt.datetime | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self.seed = seed
        self.clock = SourceClock(clock)
        self.faults = FaultPlan()
        self.faults.set_latency(latency_s)
        self._default_latency_s = latency_s
        self.dataset = SimulatedDataset(seed)
        self.api = ContractApi(
            self.dataset,
            self.clock,
            self.faults,
            stores=frozenset(stores) if stores is not None else None,
            td_token=td_token,
            uc_token=uc_token,
        )
        self._stats = RequestStats()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: a free port) in a background thread.

        Returns:
            The base URL of both APIs, e.g. ``http://127.0.0.1:54321``.

        Raises:
            RuntimeError: the server is already running.
            OSError: the address cannot be bound.
        """
        if self._httpd is not None:
            raise RuntimeError("the simulator is already running")
        httpd = _HttpServer((host, port), _Handler, self)
        bound_host, bound_port = httpd.server_address[:2]
        shown = bound_host if isinstance(bound_host, str) else bound_host.decode()
        if ":" in shown:
            shown = f"[{shown}]"
        self._httpd = httpd
        self._base_url = f"http://{shown}:{bound_port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"crm-simulator-{bound_port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("CRM simulator listening on %s", self._base_url)
        return self._base_url

    def stop(self) -> None:
        """Stop serving and close every connection; harmless when not running."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        stopping = threading.Thread(target=httpd.shutdown, daemon=True)
        stopping.start()
        httpd.wake_up()  # answer shutdown() now rather than at the next poll tick
        stopping.join()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The base URL of both APIs.

        Raises:
            RuntimeError: the server was not started.
        """
        if self._base_url is None:
            raise RuntimeError("the simulator has not been started")
        return self._base_url

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._httpd is not None

    # ---------------------------------------------------------------- clock

    def now(self) -> dt.datetime:
        """The source clock's current instant."""
        return self.clock.now()

    def set_clock(self, instant: dt.datetime) -> None:
        """Freeze the source clock at ``instant`` (aware)."""
        self.clock.set(instant)

    def advance_clock(self, delta: dt.timedelta) -> dt.datetime:
        """Move the source clock by ``delta``; return the new instant."""
        return self.clock.advance(delta)

    def use_real_clock(self) -> None:
        """Follow the real clock again."""
        self.clock.use_real_clock()

    # ---------------------------------------------------------------- faults & stats

    def reset_faults(self) -> None:
        """Remove every injected fault (latency back to the constructor's)."""
        self.faults.reset()
        self.faults.set_latency(self._default_latency_s)

    def stats(self) -> SimulatorStats:
        """A snapshot of the API traffic so far."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        """Zero the request counters and the concurrency gauge."""
        self._stats.reset()

    @property
    def requests_total(self) -> int:
        """API requests received so far."""
        return self._stats.snapshot().requests_total

    @property
    def in_flight_max(self) -> int:
        """The most API requests ever answered at the same time."""
        return self._stats.snapshot().in_flight_max

    # ---------------------------------------------------------------- ground truth

    def truth_td_orders(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> list[TdOrder]:
        """Exactly what a full fetch of TD orders returns now (no span limit)."""
        return self.dataset.td_orders(store_code, from_date, to_date, self.clock.now())

    def truth_td_sales(self, store_code: str, from_date: dt.date, to_date: dt.date) -> list[TdSale]:
        """Exactly what a full fetch of TD sales returns now (no span limit)."""
        return self.dataset.td_sales(store_code, from_date, to_date, self.clock.now())

    def truth_uc_gst(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> list[UcGstLine]:
        """Exactly what a full fetch of UC GST lines returns now (no span limit)."""
        return self.dataset.uc_gst(store_code, from_date, to_date, self.clock.now())

    # ---------------------------------------------------------------- request entry

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """Answer one HTTP request (used by the handler threads).

        Args:
            method: ``GET`` or ``POST``.
            target: the request target (path and query).
            headers: the request headers (case-insensitive mapping).
            body: the request body.
        """
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        if path.startswith(admin.PREFIX):
            return admin.handle(self, method, path, query, body)
        with self._stats.track(path):
            latency = self.faults.latency_s
            if latency > 0:
                time.sleep(latency)
            if method != "GET":
                reply = error(405, f"{method} is not allowed; use GET")
            else:
                reply = self.api.handle(path, query, headers)
            self._stats.record_status(reply.status)
            return reply


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many profiler threads may connect at once

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        simulator: SimulatorServer,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def track_connection(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (timeout, closed pool) is normal; anything else is a bug.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            logger.debug("CRM simulator: client %s went away: %s", client_address, error)
        else:
            logger.exception("CRM simulator: error while serving %s", client_address)

    def wake_up(self) -> None:
        # A throw-away connection makes serve_forever's select() return at once.
        host, port = self.server_address[:2]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        with contextlib.suppress(OSError), socket.socket(self.address_family) as probe:
            probe.settimeout(0.5)
            probe.connect((host, port))

    def close_connections(self) -> None:
        # Keep-alive handler threads would otherwise wait for their client's next request.
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse pooled connections
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection's thread ends after this
    server: _HttpServer
    server_version = "CRMSimulator/1.0"

    def setup(self) -> None:
        super().setup()
        self.server.track_connection(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track_connection(self.connection, open_=False)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._send(error(413, "request body too large"))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length > 0 else b""
        try:
            reply = self.server.simulator.answer(method, self.path, self.headers, body)
        except Exception:  # a bug must become a 500, not a dropped connection
            logger.exception("CRM simulator failed on %s %s", method, self.path)
            reply = error(500, "simulator internal error")
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        payload = _JSON.encode(reply.body)  # compact, like json.dumps with tight separators
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s - %s", self.address_string(), format % args)
