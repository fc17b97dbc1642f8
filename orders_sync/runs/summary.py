"""The one rule from a run's windows and jobs to its ``overall_status`` and ``summary_text``.

Requirement §E, for every front end (the profiler CLI, the standalone pipelines, the DAG):

- ``success`` if every window succeeded, or none was due;
- ``failed`` if any window failed — and a job that crashed, a window whose log row could not
  be written, or an interrupted run counts as a failed window;
- ``partial`` if, besides successes, only partial windows.

A store whose lock another run held (*skipped*) is counted in the text. Whether it also fails
the run is the front end's policy, stated where the run is opened: a standalone command was
asked for that store's window by hand and did not deliver it (``skipped_fails_run``); the
profiler re-plans the store on its next run, so a skip is no failure there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from orders_sync.domain import FINAL_STATUSES, Status

if TYPE_CHECKING:
    from orders_sync.runs.results import JobResult


def run_succeeded(overall_status: str) -> bool:
    """The one verdict on a finished run: the command lines exit 0, the DAG's ``check``
    passes and no alert is sent exactly when this holds (every window succeeded, or none was
    due, and no job crashed); any other status is exit 1, a failed ``check`` and an alert."""
    return overall_status == Status.SUCCESS


def overall_status(statuses: Iterable[str]) -> Status:
    """The run's status from its windows' final statuses.

    A status other than the three final ones (a window left ``running`` by a crash) counts
    as ``failed``: the run did not complete it.

    Args:
        statuses: one final status per window of the run.
    """
    seen = set(statuses)
    if seen - {Status.SUCCESS, Status.PARTIAL}:
        return Status.FAILED
    if Status.PARTIAL in seen:
        return Status.PARTIAL
    return Status.SUCCESS


def summary_text(
    counts: Mapping[tuple[str, str], int], extra: Mapping[str, int] | None = None
) -> str:
    """Per-pipeline window counts by status, then the extras, on one line.

    Example: ``a_pipeline: success=3 partial=0 failed=1; b_pipeline: success=2
    partial=0 failed=0; skipped_stores=1``. Statuses other than the three final ones are
    appended to their pipeline (``running=1``); with no windows at all the text says so.

    Args:
        counts: ``{(pipeline code, status): windows}``.
        extra: further ``name=value`` counters, in the order given.
    """
    pipelines = sorted({pipeline for pipeline, _ in counts})
    parts: list[str] = []
    for pipeline in pipelines:
        fields = [f"{status}={counts.get((pipeline, status), 0)}" for status in FINAL_STATUSES]
        others = sorted(
            status for p, status in counts if p == pipeline and status not in FINAL_STATUSES
        )
        fields += [f"{status}={counts[(pipeline, status)]}" for status in others]
        parts.append(f"{pipeline}: {' '.join(fields)}")
    if not parts:
        parts.append("no windows due")
    parts += [f"{name}={value}" for name, value in (extra or {}).items()]
    return "; ".join(parts)


@dataclasses.dataclass(frozen=True)
class RunTally:
    """What a run's job results add to the log's window counts.

    Attributes:
        skipped_stores: jobs whose store another run held.
        crashed_jobs: jobs that died of an unexpected error or never reported.
        unlogged_failures: failed windows whose log row could not even be written.
        interrupted: the run was stopped before its planned work was done.
    """

    skipped_stores: int = 0
    crashed_jobs: int = 0
    unlogged_failures: int = 0
    interrupted: bool = False

    @classmethod
    def of(cls, results: Sequence[JobResult], *, interrupted: bool = False) -> RunTally:
        """The tally of ``results``."""
        return cls(
            skipped_stores=sum(1 for r in results if r.skipped),
            crashed_jobs=sum(1 for r in results if r.crashed),
            unlogged_failures=sum(r.unlogged_failures for r in results),
            interrupted=interrupted,
        )


def decide(
    counts: Mapping[tuple[str, str], int],
    tally: RunTally,
    *,
    skipped_fails_run: bool = False,
    more: Mapping[str, int] | None = None,
) -> tuple[Status, str]:
    """``(overall_status, summary_text)`` of a run.

    Args:
        counts: ``{(pipeline code, status): windows}`` of the run, from ``orders_sync_log``.
        tally: what the job results add (see :class:`RunTally`).
        skipped_fails_run: a skipped store makes the run failed (standalone commands).
        more: further counters for the text, after the tally's (``settle_windows``, ...),
            written as given (the tally's own counters are left out when zero).
    """
    statuses = [status for (_, status), n in counts.items() for _ in range(n)]
    if (
        tally.crashed_jobs
        or tally.unlogged_failures
        or tally.interrupted
        or (skipped_fails_run and tally.skipped_stores)
    ):
        statuses.append(Status.FAILED)
    extra = {
        "skipped_stores": tally.skipped_stores,
        "crashed_jobs": tally.crashed_jobs,
        "unlogged_failures": tally.unlogged_failures,
        "interrupted": int(tally.interrupted),
    }
    extra = {name: value for name, value in extra.items() if value}
    return overall_status(statuses), summary_text(counts, {**extra, **(more or {})})
