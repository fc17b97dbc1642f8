"""The bundled CRM simulator: both APIs of the source contract, deterministic and
time-varying data, fault injection, ground truth for tests.

Run it as a process with ``scripts/crm_simulator.sh --port 8765`` (see :mod:`cli`), or
in-process with :class:`SimulatorServer`.
"""

from __future__ import annotations

from orders_sync_devtools.simulator.clock import IST, SourceClock
from orders_sync_devtools.simulator.dataset import SETTLE_DAYS, SimulatedDataset
from orders_sync_devtools.simulator.faults import FaultPlan
from orders_sync_devtools.simulator.server import DEFAULT_SEED, SimulatorServer
from orders_sync_devtools.simulator.stats import SimulatorStats

__all__ = [
    "DEFAULT_SEED",
    "IST",
    "SETTLE_DAYS",
    "FaultPlan",
    "SimulatedDataset",
    "SimulatorServer",
    "SimulatorStats",
    "SourceClock",
]
