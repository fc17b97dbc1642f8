"""What a person sees of a run: progress lines while it runs, the table at its end.

The line per finished window is logged by the pipelines themselves
(:mod:`orders_sync.pipelines.logged_window`): text on a terminal, JSON lines otherwise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING

from orders_sync.domain import FINAL_STATUSES, Status
from orders_sync.runs.results import JobResult, WindowReport

if TYPE_CHECKING:
    from orders_sync.run_profiler.execution import ProfilerRun

logger = logging.getLogger(__name__)

NOT_RUN = "not run"
_STATUSES = (*FINAL_STATUSES, Status.SKIPPED, NOT_RUN)


def render_run_table(run: ProfilerRun) -> str:
    """The final table: windows per pipeline and status, then the run's verdict."""
    counts: Counter[tuple[str, str]] = Counter()
    for result in run.results:
        if result.skipped:
            counts[(result.pipeline, Status.SKIPPED)] += 1
            continue
        for window in result.windows:
            counts[(result.pipeline, window.status)] += 1
        counts[(result.pipeline, NOT_RUN)] += result.not_run
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


class ProgressMeter:
    """Logs a long run's progress every ``interval_s``: windows done / planned, rows, elapsed,
    ETA — a text line on a terminal, a JSON log line otherwise (the CLI's log format), and
    lines in the Airflow task log of a ``sync_store`` task.

    Args:
        planned: windows planned for the run (or the task).
        interval_s: seconds between lines.
        run_id: named on every line.
    """

    def __init__(self, planned: int, interval_s: float, run_id: str) -> None:
        self.planned = planned
        self.interval_s = interval_s
        self.run_id = run_id
        self.done = 0
        self.rows = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="orders_sync-progress", daemon=True)

    def on_window(self, report: WindowReport) -> None:
        """Count one finished window (an ``on_window`` callback)."""
        with self._lock:
            self.done += 1
            self.rows += report.rows_fetched

    def __enter__(self) -> ProgressMeter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.log()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.log()

    def log(self) -> None:
        """One progress line now."""
        with self._lock:
            done, rows = self.done, self.rows
        elapsed = time.monotonic() - self._started
        eta = elapsed / done * (self.planned - done) if done else None
        logger.info(
            "progress: %d/%d windows, %d rows, %s elapsed, ETA %s",
            done,
            self.planned,
            rows,
            _clock(elapsed),
            _clock(eta) if eta is not None else "?",
            extra={
                "run_id": self.run_id,
                "windows_done": done,
                "windows_planned": self.planned,
                "rows_fetched": rows,
                "elapsed_s": round(elapsed, 1),
                "eta_s": round(eta, 1) if eta is not None else None,
            },
        )


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def log_job_result(result: JobResult) -> None:
    """One line per finished job: its status, each window's, and what was left out."""
    windows = ", ".join(
        f"{w.from_date.isoformat()}..{w.to_date.isoformat()} {w.status}" for w in result.windows
    )
    extra = f"; crashed: {result.crashed}" if result.crashed else ""
    extra += f"; {result.not_run} not run" if result.not_run else ""
    logger.info(
        "%s %s: %s — %s%s",
        result.store_code,
        result.pipeline,
        result.status,
        windows or "no window ran",
        extra,
        extra={"store_code": result.store_code, "pipeline": result.pipeline},
    )
