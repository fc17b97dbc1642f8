"""The simulator's admin endpoints under ``/_sim/``, for tests driving a separate process.

=======  =====================  ======================================================
method   path                   does
=======  =====================  ======================================================
GET      /_sim/health           ``{"ok": true}``
GET      /_sim/stats            request counters, ``in_flight_max``, clock, faults
POST     /_sim/clock            ``{"now": RFC3339}`` | ``{"advance_s": N}`` |
                                ``{"advance_days": N}`` | ``{"real": true}``
POST     /_sim/faults           add faults: see :meth:`FaultPlan.apply_json`
POST     /_sim/reset            ``{"faults": true, "stats": true}`` (both by default)
GET      /_sim/truth/td-orders  ``?store_code&from_date&to_date`` → ``{"data": [...]}``
GET      /_sim/truth/td-sales   likewise
GET      /_sim/truth/uc-gst     likewise (``from_date``/``to_date`` here too)
=======  =====================  ======================================================

They need no credentials: the simulator is a local test and demo tool.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orders_sync_devtools.simulator.routes import Reply, error

if TYPE_CHECKING:
    from orders_sync_devtools.simulator.server import SimulatorServer

PREFIX = "/_sim/"


def handle(
    sim: SimulatorServer,
    method: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    body: bytes,
) -> Reply:
    """Answer one admin request."""
    name = path[len(PREFIX) :]
    try:
        if method == "GET":
            if name == "health":
                return Reply(200, {"ok": True})
            if name == "stats":
                return Reply(200, _stats(sim))
            if name.startswith("truth/"):
                return _truth(sim, name[len("truth/") :], query)
        elif method == "POST":
            spec = _json_object(body)
            if name == "clock":
                return _clock(sim, spec)
            if name == "faults":
                sim.faults.apply_json(spec)
                return Reply(200, {"faults": sim.faults.describe()})
            if name == "reset":
                if spec.get("faults", True):
                    sim.reset_faults()
                if spec.get("stats", True):
                    sim.reset_stats()
                return Reply(200, _stats(sim))
        else:
            return error(405, f"{method} is not allowed on {path}")
    except (ValueError, TypeError) as exc:
        return error(400, str(exc))
    return error(404, f"no such admin endpoint: {method} {path}")


def _json_object(body: bytes) -> Mapping[str, Any]:
    if not body.strip():
        return {}
    try:
        spec = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise ValueError("the body must be a JSON object")
    return spec


def _stats(sim: SimulatorServer) -> dict[str, Any]:
    stats = sim.stats()
    return {
        "requests_total": stats.requests_total,
        "by_endpoint": stats.by_endpoint,
        "by_status": {str(k): v for k, v in stats.by_status.items()},
        "in_flight": stats.in_flight,
        "in_flight_max": stats.in_flight_max,
        "clock": sim.now().isoformat(),
        "clock_is_real": sim.clock.is_real,
        "seed": sim.seed,
        "faults": sim.faults.describe(),
    }


def _clock(sim: SimulatorServer, spec: Mapping[str, Any]) -> Reply:
    if spec.get("real"):
        sim.use_real_clock()
    elif "now" in spec:
        instant = dt.datetime.fromisoformat(str(spec["now"]).replace("Z", "+00:00"))
        if instant.tzinfo is None:
            raise ValueError("now must carry an offset, e.g. 2026-01-06T12:00:00+05:30")
        sim.set_clock(instant)
    elif "advance_s" in spec or "advance_days" in spec:
        seconds = float(spec.get("advance_s", 0)) + 86400.0 * float(spec.get("advance_days", 0))
        sim.advance_clock(dt.timedelta(seconds=seconds))
    else:
        raise ValueError("give one of now, advance_s, advance_days or real")
    return Reply(200, {"now": sim.now().isoformat(), "real": sim.clock.is_real})


def _truth(sim: SimulatorServer, kind: str, query: Mapping[str, Sequence[str]]) -> Reply:
    def param(name: str) -> str:
        values = query.get(name)
        if not values or not values[0]:
            raise ValueError(f"{name} is required")
        return values[0]

    store_code = param("store_code")
    from_date = dt.date.fromisoformat(param("from_date"))
    to_date = dt.date.fromisoformat(param("to_date"))
    rows: Sequence[Any]
    if kind == "td-orders":
        rows = sim.truth_td_orders(store_code, from_date, to_date)
    elif kind == "td-sales":
        rows = sim.truth_td_sales(store_code, from_date, to_date)
    elif kind == "uc-gst":
        rows = sim.truth_uc_gst(store_code, from_date, to_date)
    else:
        return error(404, f"no truth for {kind!r}; use td-orders, td-sales or uc-gst")
    return Reply(200, {"data": [row.to_json() for row in rows]})
