"""The table a person sees at the end of a run.

The line per finished window is logged by the pipelines themselves
(:mod:`orders_sync.pipelines.logged_window`): text on a terminal, JSON lines otherwise.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orders_sync.run_profiler.execution import ProfilerRun

_STATUSES = ("success", "partial", "failed", "skipped", "not run")


def render_run_table(run: ProfilerRun) -> str:
    """The final table: windows per pipeline and status, then the run's verdict."""
    counts: Counter[tuple[str, str]] = Counter()
    for result in run.results:
        if result.skipped:
            counts[(result.pipeline, "skipped")] += 1
            continue
        for window in result.windows:
            counts[(result.pipeline, window.status)] += 1
        counts[(result.pipeline, "not run")] += result.not_run
    pipelines = sorted({pipeline for pipeline, _ in counts} | {j.pipeline.code for j in run.jobs})
    header = f"{'pipeline':<16}" + "".join(f"{status:>9}" for status in _STATUSES)
    lines = [header, "-" * len(header)]
    for pipeline in pipelines:
        lines.append(f"{pipeline:<16}" + "".join(f"{counts[(pipeline, s)]:>9}" for s in _STATUSES))
    if not pipelines:
        lines.append("(nothing was due)")
    lines.append("")
    lines.append(f"run_id:  {run.outcome.run_id}")
    lines.append(
        f"status:  {run.outcome.overall_status}" + ("  (interrupted)" if run.interrupted else "")
    )
    lines.append(f"summary: {run.outcome.summary_text}")
    return "\n".join(lines)
