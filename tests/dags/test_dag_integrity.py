"""DAG integrity: it imports, parsing touches no database or network, and it is configured
as the issue asks (schedule, tags, retries, pool, trigger rules, params that refuse bad conf).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.dags.conftest import DAG_ID, REPO, airflow_env, run_probe

BAD_CONFS: list[tuple[str, dict[str, Any]]] = [
    ("window_days=0", {"window_days": 0}),
    ("window_days=-3", {"window_days": -3}),
    ("window_days-not-int", {"window_days": "ninety"}),
    ("overlap_days=-1", {"overlap_days": -1}),
    ("max_workers=0", {"max_workers": 0}),
    ("sync_group=XX", {"sync_group": "XX"}),
    ("sync_group-lowercase", {"sync_group": "td"}),
    ("force-not-bool", {"force": "yes"}),
    ("store_code-too-long", {"store_code": "ABCDEFGHIJ"}),
    ("store_code-empty", {"store_code": ""}),
    ("store_code-number", {"store_code": 101}),
    ("settle_days=-1", {"settle_days": -1}),
    ("dry_run-not-bool", {"dry_run": 1}),
    ("env-empty", {"env": ""}),
    ("env-too-long", {"env": "x" * 33}),
]
GOOD_CONFS: list[tuple[str, dict[str, Any]]] = [
    ("empty", {}),
    ("all-keys", {
        "env": "prod", "sync_group": "TD", "window_days": 30, "overlap_days": 0,
        "max_workers": 2, "force": True, "store_code": "A001", "settle_days": 3,
        "dry_run": True,
    }),
    ("store_code-null", {"store_code": None}),
    ("sync_group-UC", {"sync_group": "UC"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The probe's report of one parse of ``dags/`` with every tripwire armed."""
    import json

    confs = [conf for _, conf in BAD_CONFS + GOOD_CONFS]
    home = tmp_path_factory.mktemp("parse_home")
    env = airflow_env(
        home,
        # Nothing about the database is known at parse time; make sure nothing is tried.
        ORDERS_SYNC_DATABASE_URL="postgresql://nobody@127.0.0.1:1/never",
    )
    return run_probe("parse_dag.py", [json.dumps(confs), str(REPO / "dags")], env)


@pytest.fixture(scope="module")
def dag(parsed: dict[str, Any]) -> dict[str, Any]:
    return parsed["dags"][DAG_ID]  # type: ignore[no-any-return]


def test_dagbag_imports_without_errors(parsed: dict[str, Any]) -> None:
    assert parsed["import_errors"] == {}
    assert parsed["dag_ids"] == [DAG_ID]


def test_parsing_opens_no_connection_and_issues_no_sql(parsed: dict[str, Any]) -> None:
    assert parsed["hits"] == []
    heavy = [
        m
        for m in parsed["orders_sync_modules"]
        if m.startswith(("orders_sync.db", "orders_sync.run_profiler", "orders_sync.pipelines"))
        or m.startswith("orders_sync.sources")
    ]
    assert heavy == [], "the DAG file must import the library inside its tasks only"


def test_schedule_is_a_daily_cron_in_the_pipeline_timezone(dag: dict[str, Any]) -> None:
    assert dag["timetable"] == "CronTriggerTimetable"
    minute, hour, day, month, weekday = dag["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*")
    assert dag["timezone"] == "Asia/Kolkata"
    assert dag["catchup"] is False
    assert dag["max_active_runs"] == 1


def test_tags_and_doc(dag: dict[str, Any]) -> None:
    assert "orders_sync" in dag["tags"]
    assert dag["doc_md"] and "orders_sync_run_profiler" in dag["doc_md"]


def test_tasks_wiring_retries_pool_and_trigger_rules(dag: dict[str, Any]) -> None:
    tasks = dag["tasks"]
    assert set(tasks) == {"start", "plan", "sync_store", "finish", "check"}
    # Infrastructure tasks retry; a store's windows never re-run within a run; the verdict
    # does not retry either.
    for infra in ("start", "plan", "finish"):
        assert tasks[infra]["retries"] >= 1, infra
    assert tasks["sync_store"]["retries"] >= 1  # a lost worker heals inside the run
    assert tasks["check"]["retries"] == 0
    assert tasks["sync_store"]["type"].endswith("MappedOperator")
    assert tasks["sync_store"]["pool"] == "orders_sync"
    # labelled with what a batch holds: "A001 / td_orders_sync" or "A001 … A083 (83 plans)"
    assert "['batch']['label']" in tasks["sync_store"]["map_index_template"]
    assert tasks["sync_store"]["execution_timeout"] is not None  # a backstop of the deadline
    assert dag["dagrun_timeout"] is not None  # one hung run cannot block the schedule
    assert tasks["finish"]["trigger_rule"] == "all_done"
    assert tasks["check"]["trigger_rule"] == "all_success"
    assert tasks["plan"]["upstream"] == ["start"]
    assert tasks["sync_store"]["upstream"] == ["plan", "start"]
    assert tasks["finish"]["upstream"] == ["sync_store"]
    assert tasks["check"]["upstream"] == ["finish"]


def test_param_defaults_match_the_command_line(dag: dict[str, Any]) -> None:
    assert dag["params"] == {
        "env": "dev",
        "sync_group": "ALL",
        "window_days": 90,
        "overlap_days": 1,
        "max_workers": 3,
        "force": False,
        "store_code": None,
        "settle_days": 0,
        "dry_run": False,
        "stuck_after": 2,  # interfaces.md "Stuck days": the CLI's --stuck-after default
        "max_days_behind": 1,
        "time_budget_s": None,
    }


@pytest.mark.parametrize("index", range(len(BAD_CONFS)), ids=[name for name, _ in BAD_CONFS])
def test_params_schema_refuses_bad_conf(dag: dict[str, Any], index: int) -> None:
    assert dag["conf_valid"][index] is False


@pytest.mark.parametrize("index", range(len(GOOD_CONFS)), ids=[name for name, _ in GOOD_CONFS])
def test_params_schema_accepts_good_conf(dag: dict[str, Any], index: int) -> None:
    assert dag["conf_valid"][len(BAD_CONFS) + index] is True


def test_dag_files_import_from_airflow_sdk_only() -> None:
    for path in [*Path(REPO / "dags").glob("*.py")]:
        imports = [
            line.strip()
            for line in path.read_text().splitlines()
            if line.lstrip().startswith(("import airflow", "from airflow"))
        ]
        assert all(line.startswith("from airflow.sdk import") for line in imports), (
            f"{path.name}: {imports}"
        )
