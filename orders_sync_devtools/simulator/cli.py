"""Command line of the CRM simulator (``scripts/crm_simulator.sh``).

    python -m orders_sync_devtools.simulator --host H --port P [--seed N]
        [--stores A001,UC104] [--stores-from-db] [--latency-ms X] [--clock RFC3339]

Serves both APIs on ``http://H:P`` until interrupted. Tokens: those in ``TD_API_TOKEN``
and ``UC_API_TOKEN`` when set, any non-empty token otherwise. Bad flags, an address in
use or an unreachable database end with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from orders_sync_devtools.simulator.server import DEFAULT_SEED, SimulatorServer

logger = logging.getLogger(__name__)


class _UsageError(Exception):
    """A problem the person running the command can fix; printed on one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm_simulator.sh",
        description="Serve the simulated TD and UC CRM APIs of shared/contracts/source-api.md.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data seed")
    parser.add_argument(
        "--stores", default=None, help="comma-separated store codes to serve (others get 404)"
    )
    parser.add_argument(
        "--stores-from-db",
        action="store_true",
        help="serve the active store codes of store_master (adds to --stores)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay added to every API request"
    )
    parser.add_argument(
        "--clock",
        default=None,
        help="freeze the source clock at this RFC 3339 instant (default: the real clock)",
    )
    return parser


def active_store_codes_from_db() -> set[str]:
    """The active store codes of ``store_master``.

    Raises:
        _UsageError: the database cannot be read.
    """
    try:
        from sqlalchemy import text

        from orders_sync.db.engine import get_engine

        with get_engine().connect() as connection:
            rows = connection.execute(
                text("SELECT store_code FROM store_master WHERE is_active")
            ).scalars()
            return {str(code).strip() for code in rows if code}
    except Exception as exc:  # any driver/config failure is one line for the user
        raise _UsageError(f"cannot read store_master: {exc}".splitlines()[0]) from exc


def _stores(args: argparse.Namespace) -> set[str] | None:
    stores: set[str] | None = None
    if args.stores is not None:
        stores = {code.strip() for code in args.stores.split(",") if code.strip()}
        if not stores:
            raise _UsageError("--stores needs at least one store code")
    if args.stores_from_db:
        stores = (stores or set()) | active_store_codes_from_db()
    return stores


def _clock(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        instant = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _UsageError(f"--clock {raw!r} is not an RFC 3339 timestamp") from None
    if instant.tzinfo is None:
        raise _UsageError(f"--clock {raw!r} needs an offset, e.g. +05:30")
    return instant


def _env_token(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until SIGINT or SIGTERM; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        if args.latency_ms < 0:
            raise _UsageError("--latency-ms must not be negative")
        if not 0 <= args.port <= 65535:
            raise _UsageError(f"--port {args.port} is not a port number")
        stores = _stores(args)
        server = SimulatorServer(
            seed=args.seed,
            stores=stores,
            td_token=_env_token("TD_API_TOKEN"),
            uc_token=_env_token("UC_API_TOKEN"),
            clock=_clock(args.clock),
            latency_s=args.latency_ms / 1000.0,
        )
        try:
            url = server.start(args.host, args.port)
        except OSError as exc:
            reason = exc.strerror or exc
            raise _UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    except _UsageError as exc:
        print(f"crm_simulator: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    served = "every store code" if stores is None else f"stores {','.join(sorted(stores))}"
    print(f"CRM simulator listening on {url} (TD and UC APIs; {served})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0
