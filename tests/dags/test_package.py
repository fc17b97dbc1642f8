"""interfaces.md "Installed package": the wheel a deployment installs, used from outside any
checkout — its console command migrates, checks and dry-runs; Airflow lists its plugin through
the entry point; it carries no development tool and no tests.

The wheel goes into a fresh virtualenv with ``--no-deps``; the dependencies (Airflow among them)
are the project's own, appended to that venv's path *after* its site-packages, so the package
imported is the wheel's, never the checkout's.
"""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from packaging.requirements import Requirement

from orders_sync.config import REPOSITORY_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source")  # a copy: the build leaves nothing in the checkout
    subprocess.run(["git", "-C", str(REPOSITORY_ROOT), "archive", "--format=tar", "-o",
                    str(source / "src.tar"), "HEAD"], check=True, timeout=60)  # fmt: skip
    subprocess.run(["tar", "-xf", "src.tar"], cwd=source, check=True, timeout=60)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (found,) = out.glob("orders_sync-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the wheel; returns its ``bin`` directory."""
    root = tmp_path_factory.mktemp("fresh_venv")
    venv.create(root, with_pip=False)
    bin_dir = root / "bin"
    site = next((root / "lib").glob("python3*/site-packages"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    # The project's dependencies, after the venv's own site-packages (a plain path: its .pth
    # files, the checkout's editable install among them, are not processed).
    (site / "zz_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip --target writes console scripts into site/bin; put them where a venv has them.
    for script in (site / "bin").glob("*"):
        target = bin_dir / script.name
        target.write_text(script.read_text().replace("#!", f"#!{bin_dir / 'python'}\n#", 1))
        target.chmod(0o755)
    yield bin_dir


def _env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERS_SYNC_", "AIRFLOW"))}
    keep.pop("PYTHONPATH", None)
    return keep | extra


def _run(bin_dir: Path, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        env=_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_wheel_holds_the_library_and_nothing_of_development(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
        entry_points = archive.read(metadata_name.replace("METADATA", "entry_points.txt")).decode()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"orders_sync"}
    assert "orders_sync/db/migrations/env.py" in names
    assert any(n.startswith("orders_sync/db/migrations/versions/0001_") for n in names)
    assert "orders_sync/airflow_support/coverage.html" in names
    requires = metadata.get_all("Requires-Dist") or []
    assert not [r for r in requires if "embedded" in r.lower()]
    extras = {
        req.name: req
        for req in map(Requirement, requires)
        if req.marker is not None and req.marker.evaluate({"extra": "airflow"})
    }
    assert ">=3.3" in str(extras["apache-airflow"].specifier), requires  # the oldest tested
    assert "apache-airflow-providers-postgres" in extras, requires
    assert "orders-sync = orders_sync.console:main" in entry_points
    assert "orders_sync = orders_sync.airflow_support.plugin:OrdersSyncPlugin" in entry_points
    assert "TD = orders_sync.sources.td:SOURCE" in entry_points


def test_the_installed_command_migrates_checks_and_dry_runs(
    installed: Path, empty_db_url: str, tmp_path: Path
) -> None:
    # outside any checkout, with nothing of the repository on the path
    no_url = _run(installed, ["orders-sync", "check"], tmp_path)
    assert no_url.returncode == 2
    assert no_url.stderr.strip() == (
        "error: ORDERS_SYNC_DATABASE_URL is not set, and this installation has no embedded "
        "PostgreSQL to use instead."
    )
    env = {"ORDERS_SYNC_DATABASE_URL": empty_db_url}
    behind = _run(installed, ["orders-sync", "db", "current"], tmp_path, **env)
    assert behind.returncode == 0 and "none (not migrated)" in behind.stdout, behind.stderr
    upgraded = _run(installed, ["orders-sync", "db", "upgrade"], tmp_path, **env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "this version's head" in upgraded.stdout
    engine = sa.create_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO store_master (store_code, sync_group, start_date) "
                    "VALUES ('A001', 'TD', current_date - 3)"
                )
            )
    finally:
        engine.dispose()
    crm = {"TD_API_BASE_URL": "http://127.0.0.1:1", "TD_API_TOKEN": "t0ken-0123456789"}
    check = _run(installed, ["orders-sync", "check", "--offline"], tmp_path, **env, **crm)
    assert check.returncode == 0, check.stdout + check.stderr
    assert [line.split()[0] for line in check.stdout.splitlines()] == ["ok"] * 6
    dry = _run(installed, ["orders-sync", "run", "--dry-run"], tmp_path, **env, **crm)
    assert dry.returncode == 0, dry.stderr
    assert "A001" in dry.stdout and "td_orders_sync" in dry.stdout
    bad = _run(installed, ["orders-sync", "db", "downgrade", "nope"], tmp_path, **env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    module = _run(installed, ["python", "-c", "import orders_sync; print(orders_sync.__file__)"],
                  tmp_path)  # fmt: skip
    assert str(REPOSITORY_ROOT) not in module.stdout and "site-packages" in module.stdout


def test_airflow_lists_the_plugin_from_the_entry_point(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "airflow_home"
    empty_plugins = tmp_path / "plugins"
    empty_plugins.mkdir()
    done = _run(
        installed,
        ["python", "-m", "airflow", "plugins"],
        tmp_path,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(empty_plugins),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "orders_sync" in done.stdout, done.stdout
    assert "No plugins loaded" not in done.stdout
