"""Value types of the run profiler's planner: what it reads and what it decides.

The planner (``orders_sync.run_profiler.planning``) is a pure function of these values;
the SQL that produces ``LogFacts`` and the executor that runs ``Job`` values code
against them. Every type is a frozen, slotted dataclass, so plans compare by value.
"""

from __future__ import annotations

from dataclasses import dataclass

from orders_sync.exceptions import UsageError


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """The planning knobs of the command line and the DAG conf.

    Attributes:
        window_days: N, the size of each chunk (``--window-days``).
        overlap_days: K, how many most recent successful days always re-run
            (``--overlap-days``).
        force: ignore the log and re-run everything from ``start_date`` (``--force``).
        settle_days: S, re-fetch a covered day once at least S days after it
            (``--settle-days``); 0 keeps the requirement's behaviour exactly.
        stuck_after: R, a day that failed in R distinct runs (and no success covered since)
            is *stuck* and runs after the store's other windows (``--stuck-after``); 0
            keeps the requirement's strict order exactly.
    """

    window_days: int = 90
    overlap_days: int = 1
    force: bool = False
    settle_days: int = 0
    stuck_after: int = 2

    def __post_init__(self) -> None:
        _require_int("window_days", "--window-days", self.window_days, minimum=1)
        _require_int("overlap_days", "--overlap-days", self.overlap_days, minimum=0)
        _require_int("settle_days", "--settle-days", self.settle_days, minimum=0)
        _require_int("stuck_after", "--stuck-after", self.stuck_after, minimum=0)
        if not isinstance(self.force, bool):
            raise UsageError(f"force (--force) must be true or false, got {self.force!r}.")


def _require_int(name: str, flag: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(
            f"{name} ({flag}) must be a whole number of at least {minimum}, got {value!r}."
        )
