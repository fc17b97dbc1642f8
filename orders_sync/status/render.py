"""The status for people: one line per store + pipeline, worst first, or a store × day grid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from orders_sync.status.coverage import StoreStatus, day_state

UTF8_CELLS = {"covered": "✓", "failing": "✗", "missing": "·", "running": "▸"}
ASCII_CELLS = {"covered": "#", "failing": "x", "missing": ".", "running": ">"}
MAX_RANGES_SHOWN = 3
MAX_ERROR_CHARS = 60


def worst_first(statuses: Sequence[StoreStatus]) -> list[StoreStatus]:
    """Failing stores first, then by most days behind, then by store code."""
    return sorted(statuses, key=lambda s: (not s.failing, -s.days_behind, s.store.store_code))


def _ranges(status: StoreStatus) -> str:
    shown = [
        str(r) if len(r) > 1 else r.start.isoformat() for r in status.missing[:MAX_RANGES_SHOWN]
    ]
    more = len(status.missing) - MAX_RANGES_SHOWN
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "") or "-"


def _stuck(status: StoreStatus) -> str:
    days = sum(len(s.days) for s in status.stuck)
    since = min(s.since for s in status.stuck).date().isoformat()
    return f"{days} day(s) since {since}, x{max(s.attempts for s in status.stuck)}"


def _failure(status: StoreStatus) -> str:
    if not status.failing:
        if status.stuck:  # covered days whose re-fetches keep failing: going stale, say so
            return f"stale: re-fetches failing, {_stuck(status)}"
        return "-"
    latest = max(status.failing, key=lambda f: f.last_attempt_at)
    error = " ".join((latest.error_message or latest.status).split())
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 3] + "..."
    stuck = f" [stuck: {_stuck(status)}]" if status.stuck else ""
    return f"{error} (x{latest.attempts}){stuck}"


def render_table(statuses: Sequence[StoreStatus], today: dt.date, timezone: str) -> str:
    """One line per store + pipeline, worst first, and a footer with totals."""
    header = (
        f"{'store':<8} {'pipeline':<15} {'covered through':<15} {'behind':>6} "
        f"{'missing':>7}  {'run':<3}  {'missing ranges':<36}  latest failure"
    )
    lines = [f"Coverage on {today.isoformat()} ({timezone})", header, "-" * len(header)]
    for s in worst_first(statuses):
        through = s.covered_through.isoformat() if s.covered_through else "-"
        lines.append(
            f"{s.store.store_code:<8} {s.pipeline:<15} {through:<15} {s.days_behind:>6} "
            f"{s.missing_days:>7}  {'yes' if s.is_running else '-':<3}  {_ranges(s):<36}  "
            f"{_failure(s)}"
        )
    if not statuses:
        lines.append("(no runnable store)")
    failing = sum(1 for s in statuses if s.failing)
    behind = sum(1 for s in statuses if s.days_behind > 0)
    running = sum(1 for s in statuses if s.is_running)
    stale = sum(1 for s in statuses if s.stuck and not s.failing)
    lines.append("")
    lines.append(
        f"{len(statuses)} store(s): {failing} failing, {behind} behind, {running} running, "
        f"{sum(s.missing_days for s in statuses)} missing day(s)"
        + (f", {stale} stale (re-fetches of covered days failing)" if stale else "")
    )
    return "\n".join(lines)


def render_grid(statuses: Sequence[StoreStatus], today: dt.date, days: int, *, utf8: bool) -> str:
    """A store × day grid of the last ``days`` days, oldest left."""
    cells = UTF8_CELLS if utf8 else ASCII_CELLS
    first = today - dt.timedelta(days=days - 1)
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    legend = "  ".join(f"{mark} {name}" for name, mark in cells.items())
    lines = [f"last {days} day(s), {first.isoformat()}..{today.isoformat()}   {legend}"]
    for s in worst_first(statuses):
        row = "".join(
            cells[day_state(s, day)] if day >= s.store.start_date else " " for day in dates
        )
        lines.append(f"{s.store.store_code:<8} {s.pipeline:<15} {row}")
    return "\n".join(lines)
