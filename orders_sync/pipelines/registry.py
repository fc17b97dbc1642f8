"""Open a source's pipeline by its code, with its client built from the settings.

The standalone commands, the run profiler and the Airflow tasks get their pipelines here,
so a client is built (from ``Settings.sources``: the CRMs, or on request the simulator) in
one place only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.domain import Job
from orders_sync.exceptions import UsageError
from orders_sync.pipelines.logged_window import SourcePipeline
from orders_sync.sources import factory, registry


@contextmanager
def open_pipeline(
    code: str,
    engine: sa.Engine,
    settings: Settings,
    *,
    only: str | None = None,
    pipeline_id: int | None = None,
) -> Iterator[SourcePipeline]:
    """The pipeline ``code`` over a fresh client of its source, closed on exit.

    Args:
        code: a source's pipeline code.
        engine: the orders database.
        settings: where the API URLs, tokens and HTTP knobs come from.
        only: run only the part of this name (``--orders-only``: ``orders``).
        pipeline_id: ``pipelines.id`` of ``code`` if already resolved.

    Raises:
        UsageError: unknown code, or a part the source does not let a run choose.
        ConfigurationError: the API is not configured or ``pipelines`` lacks the row.
    """
    source = registry.for_pipeline(code)
    if only is not None and (not source.part_flags or only not in {p.name for p in source.parts}):
        raise UsageError(f"--{only}-only does not apply to {code}.")
    client = factory.client_for(source, settings)
    try:
        yield SourcePipeline(engine, source, client, only=only, pipeline_id=pipeline_id)
    finally:
        client.close()


def job_pipeline(
    job: Job, engine: sa.Engine, settings: Settings
) -> Callable[[], AbstractContextManager[SourcePipeline]]:
    """Opens ``job``'s pipeline (:func:`open_pipeline`) when called: the opener that
    :func:`orders_sync.runs.steps.job_steps` holds open for the job's life."""
    return functools.partial(
        open_pipeline, job.pipeline.code, engine, settings, pipeline_id=job.pipeline.id
    )
