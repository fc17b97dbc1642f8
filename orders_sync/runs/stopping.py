"""Stopping a run early, the same way for every front end.

A stop request — SIGINT/SIGTERM of the command line, SIGTERM of an Airflow task, a batch's
deadline — sets one :class:`threading.Event`: no new window starts after it (every job's
steps check it, :mod:`orders_sync.runs.steps`), windows in flight finish or are closed
``interrupted``, and the run's summary says it was interrupted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType

from orders_sync.domain import NotRun, Status
from orders_sync.runs.results import JobResult

EXIT_STOPPED_TWICE = 1


@contextlib.contextmanager
def stop_on_signals(
    signals: Sequence[signal.Signals], *, announce: bool = False
) -> Iterator[threading.Event]:
    """An event set by the first of ``signals`` received in the block.

    Args:
        signals: the signals that ask the run to stop.
        announce: the command line's manners: say on stderr that the run is stopping, and
            leave at once (``SystemExit(1)``) on a second signal. Without it, the handler that
            was installed before (Airflow's own) runs after the event is set.

    Outside the main thread no signal can be caught: the event is only set by its owner.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.getsignal(signum) for signum in signals}

    def handle(signum: int, frame: FrameType | None) -> None:
        if announce:
            if stop.is_set():  # a second signal: leave now
                raise SystemExit(EXIT_STOPPED_TWICE)
            name = signal.Signals(signum).name
            print(f"{name}: stopping after the windows in flight ...", file=sys.stderr)
        stop.set()
        chained = previous[signal.Signals(signum)]
        if not announce and callable(chained):
            chained(signum, frame)

    for signum in signals:
        signal.signal(signum, handle)
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def mark_interrupted(results: Sequence[JobResult]) -> list[JobResult]:
    """``results`` with each job a stop left unfinished — windows not run, none failed —
    counted as interrupted: it did not deliver its plan, and must not read as a success."""
    return [
        dataclasses.replace(
            result,
            crashed=f"{result.not_run} window(s) not run",
            reason=NotRun.INTERRUPTED,
        )
        if result.not_run and result.status == Status.SUCCESS
        else result
        for result in results
    ]
