"""The profiler's options: its command-line flags, or the DAG's conf, validated once.

A :class:`ProfilerOptions` that exists is valid: every check runs at construction, so the
CLI, the DAG's tasks and the library never hold an unchecked value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from orders_sync.domain import MAX_ENV_CHARS, MAX_STORE_CODE_CHARS
from orders_sync.exceptions import UsageError
from orders_sync.run_profiler.plan_types import PlanOptions
from orders_sync.sources import registry

DEFAULT_MAX_WORKERS = 3


@dataclasses.dataclass(frozen=True)
class ProfilerOptions:
    """The profiler's flags (CLI) or conf (DAG).

    Attributes:
        env: ``run_env`` written on every row.
        sync_group: ``'TD'``, ``'UC'`` or ``'ALL'``.
        window_days: N, the backfill chunk size.
        overlap_days: K, the most recent successful days always re-run.
        max_workers: stores synced at once.
        force: ignore success windows and re-run everything.
        store_code: run only this ``store_master.store_code``.
        settle_days: S, re-fetch covered days once S days after them (0: off).
        dry_run: plan and print, write nothing.
        stuck_after: R, days failed in R distinct runs run last (0: the strict order).
        max_days_behind: a store more days behind than this at the end of a run is stale.
        time_budget_s: after this many seconds no new window starts (windows in flight finish);
            the next run continues where this one stopped (``None``: no budget).

    Raises:
        UsageError: any value that cannot be used (one sentence naming the flag).
    """

    env: str
    sync_group: str = "ALL"
    window_days: int = 90
    overlap_days: int = 1
    max_workers: int = DEFAULT_MAX_WORKERS
    force: bool = False
    store_code: str | None = None
    settle_days: int = 0
    dry_run: bool = False
    stuck_after: int = 2
    max_days_behind: int = 1
    time_budget_s: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.env, str) or not self.env or len(self.env) > MAX_ENV_CHARS:
            raise UsageError(f"--env must be 1 to {MAX_ENV_CHARS} characters, got {self.env!r}.")
        choices = registry.sync_group_choices()
        if self.sync_group not in choices:
            raise UsageError(
                f"--sync-group must be one of {', '.join(choices)}, got {self.sync_group!r}."
            )
        if (
            isinstance(self.max_workers, bool)
            or not isinstance(self.max_workers, int)
            or self.max_workers < 1
        ):
            raise UsageError(
                f"max_workers (--max-workers) must be a whole number of at least 1, "
                f"got {self.max_workers!r}."
            )
        if self.store_code is not None and not (
            isinstance(self.store_code, str) and 0 < len(self.store_code) <= MAX_STORE_CODE_CHARS
        ):
            raise UsageError(
                f"--store-code must be 1 to {MAX_STORE_CODE_CHARS} characters, "
                f"got {self.store_code!r}."
            )
        if (
            isinstance(self.max_days_behind, bool)
            or not isinstance(self.max_days_behind, int)
            or self.max_days_behind < 0
        ):
            raise UsageError(
                f"max_days_behind (--max-days-behind) must be a whole number of at least 0, "
                f"got {self.max_days_behind!r}."
            )
        if self.time_budget_s is not None and (
            isinstance(self.time_budget_s, bool)
            or not isinstance(self.time_budget_s, int)
            or self.time_budget_s < 1
        ):
            raise UsageError(
                "time_budget_s (--time-budget) must be a whole number of seconds of at least 1, "
                f"got {self.time_budget_s!r}."
            )
        if not isinstance(self.dry_run, bool):
            raise UsageError(f"dry_run (--dry-run) must be true or false, got {self.dry_run!r}.")
        self.plan_options()

    def plan_options(self) -> PlanOptions:
        """The planner's knobs (validated by :class:`PlanOptions`)."""
        return PlanOptions(
            window_days=self.window_days,
            overlap_days=self.overlap_days,
            force=self.force,
            settle_days=self.settle_days,
            stuck_after=self.stuck_after,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (DAG conf, XCom)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfilerOptions:
        """Build from a dict such as a DAG conf; unknown keys are a usage error."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown profiler option(s): {', '.join(unknown)}.")
        return cls(**dict(data))
