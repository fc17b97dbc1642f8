"""The status for people: one line per store + pipeline, worst first, or a store × day grid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from orders_sync.status.coverage import StoreStatus, day_state
from orders_sync.status.overview import HEALTH, overview_counts, problem_text, worst_first

UTF8_CELLS = {"covered": "✓", "failing": "✗", "missing": "·", "running": "▸"}
ASCII_CELLS = {"covered": "#", "failing": "x", "missing": ".", "running": ">"}
MAX_RANGES_SHOWN = 3
MAX_ERROR_CHARS = 60


def _ranges(status: StoreStatus) -> str:
    shown = [
        str(r) if len(r) > 1 else r.start.isoformat() for r in status.missing[:MAX_RANGES_SHOWN]
    ]
    more = len(status.missing) - MAX_RANGES_SHOWN
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "") or "-"


def render_table(
    statuses: Sequence[StoreStatus], today: dt.date, timezone: str, max_days_behind: int = 1
) -> str:
    """One line per store + pipeline, worst first, and a footer with the overview counts."""
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
            f"{problem_text(s, MAX_ERROR_CHARS) or '-'}"
        )
    if not statuses:
        lines.append("(no runnable store)")
    counts = overview_counts(statuses, max_days_behind)
    lines.append("")
    lines.append(
        f"{counts['stores']} store(s): "
        + ", ".join(f"{counts[name]} {name.replace('_', ' ')}" for name in HEALTH)
        + f"; {sum(s.missing_days for s in statuses)} missing day(s)"
        + f" (behind: more than {max_days_behind} day(s) behind)"
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
