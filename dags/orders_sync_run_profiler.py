"""
### orders_sync_run_profiler

Auto backfill + continuous refresh of the TD and UC orders pipelines, decided from
`orders_sync_log` — the same library calls as `scripts/orders_sync_run_profiler.sh`.

`start` validates the conf and inserts `pipeline_run_summaries` (running) → `plan` reads the
log, plans every store + pipeline (an empty plan is a successful run) and deals the plans
into batches → `sync_store`, one mapped task per batch, in pool `orders_sync`, runs each plan
of its batch in turn — its windows in order under the store's PostgreSQL advisory lock, the
first failed/partial window stopping that store only → `finish` (all_done) writes the run's
summary from what `orders_sync_log` recorded → `check` fails the DAG run when any window
failed or was partial, naming the stores.

**Batches.** Up to `max_workers` plans: one per mapped task (labelled
`A001 / td_orders_sync`). More: `max_workers` batches — one wave, each slot busy to the end —
plus a wave of `max_workers` more for every `max_workers × 250` plans beyond (250 plans a
batch at most), never more than `ORDERS_SYNC_MAX_MAPPED_TASKS` (256) and always below
`[core] max_map_length`, balanced by planned days (longest first to the lightest batch),
labelled `A001 … A083 (83 plans)`. The
plans live in `orders_sync_run_batches` keyed by the run; XCom carries only batch ids. Each
batch has a deadline grown from its planned work (at most `ORDERS_SYNC_TASK_TIMEOUT`, 4 h):
past it the window in flight is closed `interrupted` and the next run recovers it; the DAG
run has a `dagrun_timeout` (`ORDERS_SYNC_DAGRUN_TIMEOUT`, 12 h).

**Workers.** The pool `orders_sync` caps all runs together (the deployment's max-workers);
a run's own `max_workers` is honoured on top of it by run-scoped advisory-lock slots.

**Conf** (manual trigger), every key optional:
`{"env": "prod", "sync_group": "TD", "window_days": 30, "overlap_days": 1,
"max_workers": 2, "force": false, "store_code": null, "settle_days": 0, "stuck_after": 2,
"max_days_behind": 1, "dry_run": false}`

**Connections** `orders_sync_db`, `td_crm`, `uc_crm` when they exist, else the environment
(`ORDERS_SYNC_DATABASE_URL`, `TD_API_BASE_URL`/`TD_API_TOKEN`, `UC_API_BASE_URL`/`UC_API_TOKEN`).

**Assets.** `finish` emits, through the alias `orders_sync_changed_tables`, one asset event
per data table the run inserted or changed rows of — `orders-sync://orders/td_orders`,
`…/td_sales`, `…/uc_orders` — with `run_id`, rows inserted/updated, stores and date range in
its extra; a run that changed nothing emits none. Schedule downstream DAGs on those Assets
(`finish` declares them as its inlets, so Airflow knows them from the first parse).

**Alerts.** `check` fails the DAG run when a window failed or was partial; its
`on_failure_callback` (`OrdersSyncAlertNotifier`, a `BaseNotifier`) then sends one alert per
DAG run to `ORDERS_SYNC_ALERT_WEBHOOK_URL` / the connection `orders_sync_alerts` and to
`ORDERS_SYNC_ALERT_EMAIL_TO` — the same payload as the command line's.

A store whose window failed at the source is retried by the next run (its windows are planned
again), not within this one. A `sync_store` whose worker was lost (a killed process, a
scheduler restart) is retried by Airflow, and a cleared one may be re-run: either resumes
from the log — finished plans are not run again, the window in flight is retried on its own
row (`attempt_no` + 1).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import AssetAlias, CronTriggerTimetable, Param, TriggerRule, dag, task

from orders_sync.airflow_support.assets import CHANGED_TABLES_ALIAS, declared_table_assets
from orders_sync.airflow_support.dag_config import dag_config_from_env
from orders_sync.airflow_support.notifier import OrdersSyncAlertNotifier
from orders_sync.airflow_support.pools import POOL_NAME
from orders_sync.config import ALL_GROUPS, declared_sync_groups

CONFIG = dag_config_from_env()


@dag(
    dag_id="orders_sync_run_profiler",
    schedule=(
        CronTriggerTimetable(CONFIG.schedule, timezone=CONFIG.timezone) if CONFIG.schedule else None
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz=CONFIG.timezone),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(seconds=CONFIG.dagrun_timeout_s),
    tags=["orders_sync", "crm", "backfill"],
    doc_md=__doc__,
    default_args={
        "owner": "orders_sync",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
    params={
        "env": Param(
            CONFIG.env,
            type="string",
            minLength=1,
            maxLength=32,
            description="run_env written on every row",
        ),
        "sync_group": Param(
            ALL_GROUPS,
            enum=list(declared_sync_groups()),
            description="store_master.sync_group to run",
        ),
        "window_days": Param(
            90, type="integer", minimum=1, description="N: size of each backfill chunk in days"
        ),
        "overlap_days": Param(
            1, type="integer", minimum=0, description="K: most recent successful days always re-run"
        ),
        "max_workers": Param(
            CONFIG.max_workers,
            type="integer",
            minimum=1,
            description="stores synced at once in this run "
            "(the pool orders_sync caps all runs together)",
        ),
        "force": Param(
            False, type="boolean", description="ignore success windows and re-run everything"
        ),
        "store_code": Param(
            None,
            type=["null", "string"],
            minLength=1,
            maxLength=8,
            description="run only this store_master.store_code",
        ),
        "settle_days": Param(
            CONFIG.settle_days,
            type="integer",
            minimum=0,
            description="S: re-fetch covered days once S days after them",
        ),
        "stuck_after": Param(
            2,
            type="integer",
            minimum=0,
            description="R: days failed in R distinct runs run after the store's other windows "
            "(0: strict order)",
        ),
        "max_days_behind": Param(
            1,
            type="integer",
            minimum=0,
            description="freshness: a store more days behind than this after the run is stale",
        ),
        "time_budget_s": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="start no new window after this many seconds; the next run continues "
            "(a huge backfill spread over several daily runs)",
        ),
        "dry_run": Param(
            False, type="boolean", description="log the plan (every window and why); write nothing"
        ),
    },
)
def orders_sync_run_profiler() -> None:
    @task(execution_timeout=dt.timedelta(minutes=10), multiple_outputs=False)
    def start(params=None, dag_run=None, ti=None) -> dict:
        from orders_sync.airflow_support import tasks

        return tasks.start(
            params, dag_id=dag_run.dag_id, airflow_run_id=dag_run.run_id, conf=dag_run.conf, ti=ti
        )

    @task(execution_timeout=dt.timedelta(minutes=10))
    def plan(start_info: dict) -> list:
        from orders_sync.airflow_support import tasks

        return tasks.plan(start_info)

    @task(
        pool=POOL_NAME,
        # A lost worker heals inside the run: the retry resumes from the log. A failed
        # window fails the task without a retry (AirflowFailException).
        retries=2,
        retry_delay=dt.timedelta(seconds=15),
        retry_exponential_backoff=False,
        map_index_template="{{ task.op_kwargs['batch']['label'] }}",
        # a backstop: each batch's own deadline (its planned work, at most the ceiling)
        # interrupts it first; see orders_sync.airflow_support.deadline
        execution_timeout=dt.timedelta(seconds=CONFIG.task_timeout_s + 600),
    )
    def sync_store(batch: dict, start_info: dict, ti=None) -> None:
        from orders_sync.airflow_support import tasks

        tasks.sync_store(batch, start_info, ti)

    @task(
        multiple_outputs=False,
        trigger_rule=TriggerRule.ALL_DONE,
        execution_timeout=dt.timedelta(minutes=10),
        inlets=declared_table_assets(),  # it reads them; declared, Airflow knows their Assets
        outlets=[AssetAlias(CHANGED_TABLES_ALIAS)],
    )
    def finish(ti=None, outlet_events=None) -> dict:
        from orders_sync.airflow_support import tasks

        return tasks.finish(ti, outlet_events)

    @task(retries=0, on_failure_callback=OrdersSyncAlertNotifier())
    def check(summary: dict) -> None:
        from orders_sync.airflow_support import tasks

        tasks.check(summary)

    start_info = start()
    synced = sync_store.partial(start_info=start_info).expand(batch=plan(start_info))
    summary = finish()
    synced >> summary
    check(summary)


orders_sync_run_profiler()
