"""The Docker deployment, tested without a Docker engine: the compose file parses and names
only things that exist (files, Airflow commands and settings, orders_sync variables), the
image's install step works as a plain pip install, and ``airflow.cfg.sample`` only holds real,
commented settings. Also ``make airflow``'s wiring.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.dags.conftest import REPO, airflow_env, run_probe

COMPOSE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
AIRFLOW_PACKAGE = Path(sys.executable).parents[1] / "lib"
# Settings of the Celery provider (in the apache/airflow image, not in this virtualenv), and
# SimpleAuthManager's passwords file, read by the auth manager itself (not in config.yml).
CELERY_PROVIDER_OPTIONS = {("celery", "broker_url"), ("celery", "result_backend")}
AUTH_MANAGER_OPTIONS = {("core", "simple_auth_manager_passwords_file")}


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


@cache
def airflow_options() -> set[tuple[str, str]]:
    """Every ``(section, option)`` of Airflow core's config.yml, read as a file (no import)."""
    [config_yml] = AIRFLOW_PACKAGE.glob(
        "python3*/site-packages/airflow/config_templates/config.yml"
    )
    sections = yaml.safe_load(config_yml.read_text())
    return {(section, option) for section, body in sections.items() for option in body["options"]}


def _environment_keys() -> set[str]:
    keys: set[str] = set()
    for service in compose()["services"].values():
        environment = service.get("environment") or {}
        keys.update(environment if isinstance(environment, dict) else [])
    return keys


def test_compose_parses_and_has_the_services() -> None:
    services = compose()["services"]
    assert {
        "postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler",
        "airflow-dag-processor", "airflow-triggerer", "redis", "airflow-worker",
    } <= set(services)  # fmt: skip
    assert services["postgres"]["image"] == "postgres:16"
    assert "ports" not in services["postgres"]
    assert services["redis"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["profiles"] == ["celery"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        assert services[name]["build"] == "."
        assert services[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }
    default_executor = services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"]
    assert default_executor == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert "10-orders-sync.sql" in services["postgres"]["configs"][0]["target"]
    init_sql = compose()["configs"]["create_orders_database"]["content"]
    assert "CREATE DATABASE orders_sync OWNER orders_sync" in init_sql
    assert "CREATE ROLE orders_sync LOGIN" in init_sql and "SUPERUSER" not in init_sql
    url = services["airflow-init"]["environment"]["ORDERS_SYNC_DATABASE_URL"]
    assert "postgresql://orders_sync:" in url  # the orders data is not the superuser's


def test_compose_is_valid_against_the_compose_spec() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema",
         "vendor.compose-spec", str(COMPOSE)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_service_has_a_healthcheck_with_a_timeout_and_logs_are_kept() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name == "airflow-init":
            continue  # one-shot
        assert "timeout" in service.get("healthcheck", {}), name
    for name in ("airflow-dag-processor", "airflow-triggerer"):
        assert "airflow jobs check --job-type" in " ".join(services[name]["healthcheck"]["test"])
    assert services["airflow-worker"]["environment"]["DUMB_INIT_SETSID"] == "0"
    assert "airflow-logs:/opt/airflow/logs" in services["airflow-scheduler"]["volumes"]
    assert "airflow-auth:/opt/airflow/auth" in services["airflow-apiserver"]["volumes"]
    assert set(compose()["volumes"]) >= {"airflow-logs", "airflow-auth", "postgres-data"}


def test_the_github_workflow_is_valid_pinned_and_least_privilege() -> None:
    workflow_path = REPO / ".github" / "workflows" / "ci.yml"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema",
         "vendor.github-workflows", str(workflow_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = yaml.safe_load(workflow_path.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    uses = re.findall(r"uses: (\S+)", workflow_path.read_text())
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses
    assert "bash .ci/run" in workflow_path.read_text()


def test_every_airflow_setting_named_exists() -> None:
    named = {
        tuple(key.lower().split("__")[1:3])
        for key in _environment_keys()
        if key.startswith("AIRFLOW__")
    }
    unknown = named - airflow_options() - CELERY_PROVIDER_OPTIONS - AUTH_MANAGER_OPTIONS
    assert unknown == set()


def test_every_orders_sync_variable_named_is_read_by_the_project() -> None:
    source = "\n".join(path.read_text() for path in (REPO / "orders_sync").rglob("*.py"))
    named = {key for key in _environment_keys() if key.startswith("ORDERS_SYNC_")}
    named |= set(re.findall(r"\$\{(ORDERS_SYNC_\w+)", COMPOSE.read_text()))
    assert named, "the compose file configures orders_sync"
    assert {key for key in named if f'"{key}"' not in source} == set()


def _init_script() -> str:
    command = compose()["services"]["airflow-init"]["command"]
    assert command[:2] == ["bash", "-c"]
    return str(command[2]).replace("$$", "$")


def test_init_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", "-c", _init_script()], check=True)


def test_every_airflow_command_named_is_accepted_by_airflow(tmp_path: Path) -> None:
    lines = [
        shlex.split(line.strip())
        for line in _init_script().splitlines()
        if line.strip().startswith("airflow ")
    ]
    # Shell variables stand for sample values; redirections and `|| true` are the shell's.
    samples = {"${ORDERS_SYNC_MAX_WORKERS}": "3"}
    lines = [line[: line.index("||")] if "||" in line else line for line in lines]
    lines = [
        [samples.get(arg, "x") if arg.startswith("$") else arg for arg in line[1:]]
        for line in lines
    ]
    lines = [[arg for arg in line if arg not in (">/dev/null", "2>&1")] for line in lines]
    services = compose()["services"]
    lines += [
        shlex.split(services[name]["command"])
        for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                     "airflow-triggerer")
    ]  # fmt: skip
    assert ["db", "migrate"] in lines
    assert any(line[:2] == ["pools", "set"] and line[2] == "orders_sync" for line in lines)
    verdicts = run_probe("airflow_cli.py", [json.dumps(lines)], airflow_env(tmp_path))
    assert dict(zip(map(" ".join, lines), verdicts, strict=True)) == {
        " ".join(line): None for line in lines
    }
    # The Celery worker needs the Celery provider, which the apache/airflow image has.
    assert services["airflow-worker"]["command"] == "celery worker"


def test_init_migrates_the_orders_schema_with_the_installed_command() -> None:
    script = _init_script()
    assert "\norders-sync db upgrade\n" in script
    for connection in ("orders_sync_db", "td_crm", "uc_crm", "orders_sync_alerts"):
        assert f"upsert_connection {connection} " in script


def _copied_sources() -> list[str]:
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            args = [arg for arg in line.split()[1:] if not arg.startswith("--")]
            sources += args[:-1]
    return sources


def test_dockerfile_copies_files_that_exist_and_are_not_ignored() -> None:
    text = DOCKERFILE.read_text()
    assert "FROM apache/airflow:3.3.2" in text.splitlines()
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    sources = [s for s in _copied_sources() if not s.startswith("/")]  # /dist: the wheel stage
    assert {"orders_sync", "pyproject.toml", "constraints.txt"} <= set(sources)
    assert "dags/orders_sync_run_profiler.py" in sources
    assert not {s for s in sources if "devtools" in s or s.startswith(("tests", "plugins"))}
    for source in sources:
        assert (REPO / source).exists(), source
        assert source not in ignored, source


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("hadolint")), str(DOCKERFILE)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_pins_match_requirements() -> None:
    requirements = (REPO / "requirements.txt").read_text()
    assert "apache-airflow==3.3.2" in requirements.splitlines()
    text = DOCKERFILE.read_text()
    assert '"apache-airflow==3.3.2"' in text and "--constraint /tmp/constraints.txt" in text
    build = re.search(r'"build==([\d.]+)"', text)
    assert build is not None and f"build=={build.group(1)}" in requirements.splitlines()
    assert "orders_sync-0.1.0-py3-none-any.whl" in text  # the version pyproject.toml builds


def test_image_install_step_works_as_a_plain_pip_install(tmp_path: Path) -> None:
    """The Dockerfile's ``pip install --no-deps`` of the project, into a scratch directory.

    Like the image build, pip builds the package in an isolated environment with the
    ``build-system.requires`` of pyproject.toml, fetched from the package index.
    """
    project = tmp_path / "project"
    project.mkdir()
    for source in ("pyproject.toml", "orders_sync"):
        copy = shutil.copytree if (REPO / source).is_dir() else shutil.copy
        copy(REPO / source, project / source)
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(project)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )  # fmt: skip
    if done.returncode != 0 and re.search(
        r"No matching distribution|Failed to establish|Could not fetch|NewConnectionError",
        done.stderr,
    ):
        pytest.skip(f"the package index is unreachable: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    probe = (
        "import orders_sync, orders_sync.airflow_support.tasks, orders_sync.run_profiler.execution;"
        f"assert orders_sync.__file__.startswith({str(site)!r}), orders_sync.__file__"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, env=env, cwd=tmp_path, timeout=60)


def test_airflow_cfg_sample_holds_real_commented_settings() -> None:
    path = REPO / "airflow.cfg.sample"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    named = {(section, option) for section in parser.sections() for option in parser[section]}
    assert named - airflow_options() == set()
    assert {("core", "default_timezone"), ("core", "parallelism"), ("core", "dags_folder"),
            ("core", "plugins_folder"), ("core", "executor")} <= named  # fmt: skip
    lines = path.read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^\w+\s*=", line):
            assert lines[index - 1].startswith("#"), f"no comment above {line!r}"


def test_make_airflow_runs_the_local_stack() -> None:
    script = REPO / "scripts" / "airflow_local.sh"
    assert os.access(script, os.X_OK)
    assert "-m orders_sync_devtools.airflow_stack" in script.read_text()
    assert re.search(
        r"^airflow: .*scripts/airflow_local\.sh", (REPO / "Makefile").read_text(), re.M
    )


@pytest.mark.parametrize("flag", ["--help"])
def test_local_stack_help(flag: str) -> None:
    done = subprocess.run(
        [str(REPO / "scripts" / "airflow_local.sh"), flag],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert "Ctrl-C stops everything" in done.stdout
