"""Roll window statuses up into a run's ``overall_status`` and ``summary_text``.

Used by the standalone pipeline commands and by the run profiler (requirement §E):

- ``success`` if every window succeeded, or none was due;
- ``failed`` if any window failed;
- ``partial`` if, besides successes, only partial windows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SUCCESS = "success"
PARTIAL = "partial"
FAILED = "failed"
COUNTED_STATUSES = (SUCCESS, PARTIAL, FAILED)


def overall_status(statuses: Iterable[str]) -> str:
    """The run's status from its windows' final statuses.

    A status other than the three final ones (a window left ``running`` by a crash) counts
    as ``failed``: the run did not complete it.

    Args:
        statuses: one final status per window of the run.
    """
    seen = set(statuses)
    if seen - {SUCCESS, PARTIAL}:
        return FAILED
    if PARTIAL in seen:
        return PARTIAL
    return SUCCESS


def summary_text(
    counts: Mapping[tuple[str, str], int], extra: Mapping[str, int] | None = None
) -> str:
    """Per-pipeline window counts by status, then the extras, on one line.

    Example: ``td_orders_sync: success=3 partial=0 failed=1; uc_orders_sync: success=2
    partial=0 failed=0; skipped_stores=1``. Statuses other than the three final ones are
    appended to their pipeline (``running=1``); with no windows at all the text says so.

    Args:
        counts: ``{(pipeline code, status): windows}``.
        extra: further ``name=value`` counters, in the order given.
    """
    pipelines = sorted({pipeline for pipeline, _ in counts})
    parts: list[str] = []
    for pipeline in pipelines:
        fields = [f"{status}={counts.get((pipeline, status), 0)}" for status in COUNTED_STATUSES]
        others = sorted(
            status for p, status in counts if p == pipeline and status not in COUNTED_STATUSES
        )
        fields += [f"{status}={counts[(pipeline, status)]}" for status in others]
        parts.append(f"{pipeline}: {' '.join(fields)}")
    if not parts:
        parts.append("no windows due")
    parts += [f"{name}={value}" for name, value in (extra or {}).items()]
    return "; ".join(parts)
