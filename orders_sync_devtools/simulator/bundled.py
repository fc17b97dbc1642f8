"""The bundled CRM simulator of ``ORDERS_SYNC_SOURCES=simulator``: one per process, on demand.

Started lazily, once per process, on a free loopback port. It accepts any non-empty token,
so the configured token, or a fixed demo token when none is configured, is used. Only
:mod:`orders_sync.sources.factory` starts it, and only when the simulator was asked for.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading

from orders_sync_devtools.simulator.server import DEFAULT_SEED, SimulatorServer

logger = logging.getLogger(__name__)

DEMO_TD_TOKEN = "td-simulator-demo-token"
DEMO_UC_TOKEN = "uc-simulator-demo-token"


def demo_token(sync_group: str) -> str:
    """The token used for a source the simulator serves when none is configured (the
    simulator accepts any non-empty token)."""
    return f"{sync_group.lower()}-simulator-demo-token"


@dataclasses.dataclass(frozen=True)
class RunningSimulator:
    """The process's bundled simulator.

    Attributes:
        server: the running server (clock, faults, truth).
        base_url: where both APIs are served.
        pid: the process that started it (a forked child starts its own).
    """

    server: SimulatorServer
    base_url: str
    pid: int


_lock = threading.Lock()
_running: RunningSimulator | None = None


def ensure_simulator() -> RunningSimulator:
    """Start the bundled simulator unless this process already runs it; thread-safe.

    Returns:
        The running simulator (seed :data:`DEFAULT_SEED`, real clock, every store).
    """
    global _running
    with _lock:
        if _running is None or _running.pid != os.getpid():
            server = SimulatorServer(seed=DEFAULT_SEED)
            base_url = server.start("127.0.0.1", 0)
            _running = RunningSimulator(server=server, base_url=base_url, pid=os.getpid())
            logger.warning(
                "ORDERS_SYNC_SOURCES=simulator: syncing SIMULATED orders from the bundled "
                "CRM simulator at %s",
                base_url,
            )
        return _running
