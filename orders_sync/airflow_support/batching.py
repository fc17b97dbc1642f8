"""How the DAG maps its plan: batches of store + pipeline jobs, balanced by planned work.

Airflow refuses a mapped input longer than ``[core] max_map_length`` and its scheduler slows
with thousands of mapped instances, while each mapped task costs about a second of process
start, DAG parse and connections, and every *wave* of mapped tasks (a slot freed, the next
task queued) costs the scheduler's loop on top (its idle sleep, 1 s by default). Measured
with ``benchmarks/airflow_vs_cli.py`` (12 stores x 365 days, 4 workers): one job per task in
three waves of four took 16.2 s, one wave of four batches of three 12.5 s. So (pure, no I/O):

- a plan of at most ``max_workers`` jobs keeps one job per mapped task — the UI shows every
  store on its own, and they all run at once;
- a larger one is cut into ``max_workers`` batches — one wave, every worker slot busy from
  the first second to the last, the per-task cost paid once per slot — and into more waves
  (a multiple of ``max_workers``) only when a batch would hold more than
  :data:`MAX_JOBS_PER_BATCH` jobs, so that a killed worker or a batch deadline costs a
  bounded part of the run and the task logs stay readable;
- never more batches than the cap (``ORDERS_SYNC_MAX_MAPPED_TASKS``, default 256, and always
  below ``max_map_length``);
- jobs are dealt longest first to the lightest batch (LPT) by their planned work
  (:attr:`~orders_sync.domain.Job.work`: days plus a per-job constant), so a store with two
  years to backfill lands in a batch of its own instead of making a straggler of a batch of
  small ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from orders_sync.domain import Job, deal_by_work

MAX_JOBS_PER_BATCH = 250
"""A batch holds at most this many jobs (unless the cap forces more)."""


def mapped_task_cap(configured: int, max_map_length: int) -> int:
    """The most mapped ``sync_store`` instances: the configured cap, always below Airflow's
    ``max_map_length``."""
    return max(1, min(configured, max_map_length - 1))


def batch_count(jobs: int, *, max_workers: int, cap: int) -> int:
    """How many batches ``jobs`` jobs become (see the module docstring)."""
    if jobs == 0:
        return 0
    if jobs <= max_workers:
        return min(jobs, cap)
    waves = math.ceil(jobs / (max_workers * MAX_JOBS_PER_BATCH))
    return min(cap, waves * max_workers)


def plan_batches(jobs: Sequence[Job], *, max_workers: int, cap: int) -> list[list[Job]]:
    """The jobs dealt into balanced batches; each batch's jobs longest first."""
    count = batch_count(len(jobs), max_workers=max_workers, cap=cap)
    if count == 0:
        return []
    ordered = sorted(jobs, key=lambda j: (j.store_code, j.pipeline.code))
    return [batch for batch in deal_by_work(ordered, count) if batch]


def batch_label(batch: Sequence[Job]) -> str:
    """``<store> / <pipeline>`` for one job; ``A001 … A083 (83 plans)`` for a batch."""
    if len(batch) == 1:
        return f"{batch[0].store_code} / {batch[0].pipeline.code}"
    codes = sorted(job.store_code for job in batch)
    return f"{codes[0]} … {codes[-1]} ({len(batch)} plans)"
