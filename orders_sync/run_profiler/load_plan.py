"""The profiler's plan from the database: select the stores, read the log, plan (pure).

A fixed number of statements whatever the number of stores: one for the stores, one for
the pipeline ids and the set-based log facts (:mod:`orders_sync.db.repositories.log_facts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.db.migrate import require_current
from orders_sync.db.repositories import stores
from orders_sync.db.repositories.log_facts import load_log_facts
from orders_sync.db.repositories.pipelines import source_pipelines
from orders_sync.domain import Job, StoreRef
from orders_sync.exceptions import ConfigurationError, UsageError
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.run_profiler.planning import plan_jobs
from orders_sync.sources import registry
from orders_sync.sources.factory import require_sources


def select_stores(
    conn: sa.Connection, options: ProfilerOptions, *, require_any: bool = True
) -> list[StoreRef]:
    """The stores of this run (requirement §D "Store selection").

    Args:
        require_any: a selection of no store at all is bad configuration (a run); the status
            view passes ``False`` and shows an empty chain.

    Raises:
        UsageError: ``--store-code`` names no runnable store of the selected group.
        ConfigurationError: the schema is not this version's, or no store at all is selected
            (and ``require_any``).
    """
    require_current(conn)
    groups = registry.groups_of(options.sync_group)
    rows = stores.select_runnable_stores(conn, sync_groups=groups, store_code=options.store_code)
    if options.store_code is not None and not rows:
        existing = stores.get_store(conn, options.store_code)
        raise UsageError(stores.explain_unrunnable(existing, options.store_code, groups))
    if not rows and require_any:
        raise ConfigurationError(no_store_selected(conn, groups))
    return [
        StoreRef(
            store_code=row.store_code,
            sync_group=row.sync_group,
            cost_center=row.cost_center,
            start_date=row.start_date,
        )
        for row in rows
        if row.start_date is not None
    ]


def no_store_selected(conn: sa.Connection, groups: Sequence[str]) -> str:
    """The one line of a run that selects no store at all (interfaces.md "Command line"):
    bad configuration — the wrong database, an empty or inactive ``store_master`` — not a
    successful run of nothing."""
    return (
        f"no store to sync: {stores.store_master_location(conn)} has no active store with a "
        f"start_date in sync group {' or '.join(groups)}; check the database "
        "(ORDERS_SYNC_DATABASE_URL / the orders_sync_db connection) and store_master."
    )


def check_run(conn: sa.Connection, options: ProfilerOptions, settings: Settings) -> None:
    """Refuse a run before it writes anything: an unknown store, or a CRM not configured for
    a store the run would sync (interfaces.md "Sources must be configured").

    Raises:
        UsageError: ``--store-code`` names no runnable store of the selected group.
        ConfigurationError: the CRM of a selected store's group is not configured.
    """
    selected = select_stores(conn, options)
    require_sources(
        settings, {registry.for_sync_group(store.sync_group).pipeline_code for store in selected}
    )


def plan_run(
    engine: sa.Engine,
    options: ProfilerOptions,
    settings: Settings,
    *,
    today: dt.date,
) -> list[Job]:
    """Select the stores, read the log facts (set-based) and plan (pure).

    Args:
        today: the run's today in the pipeline timezone, decided once per run.
    """
    with engine.connect() as conn:
        selected = select_stores(conn, options)
        pipelines = source_pipelines(conn)
        facts = load_log_facts(
            conn,
            pipeline_ids=sorted(p.id for p in pipelines.values()),
            store_codes=[store.store_code for store in selected],
            overlap_days=options.overlap_days,
            today=today,
            settle_days=options.settle_days,
            stuck_after=options.stuck_after,
            timezone=settings.pipeline_timezone,
        )
    return plan_jobs(selected, pipelines, facts, today, options.plan_options())
