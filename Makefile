# The two commands of the README:
#   make run   — set up everything, start the embedded PostgreSQL and the CRM simulator, run the profiler
#   make test  — set up everything and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint lock airflow stop-db benchmarks system-deps airflow-version

# The editable install leaves orders_sync.egg-info in the checkout; with the checkout on
# PYTHONPATH (the tests' and the local stack's Airflow) it is a second copy of the distribution
# and Airflow loads the plugin entry point twice ("Plugin 'orders_sync' already registered"):
# it is removed.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@rm -rf orders_sync.egg-info
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	ORDERS_SYNC_SOURCES=$${ORDERS_SYNC_SOURCES:-simulator} $(BIN)/python -m orders_sync_devtools.demo

# The tests need three Debian packages: chromium for the browser test (Playwright's own
# download is not used), redis-server as the CeleryExecutor test's broker, and postgresql-15
# for the integration tests' second PostgreSQL major.
# As root (this machine, CI here) or through sudo (a GitHub runner).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@command -v chromium >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 \
	  && test -x /usr/lib/postgresql/15/bin/initdb || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  $(SUDO) apt-get install -y -qq chromium redis-server postgresql-15 >/dev/null; }

# Everything on the embedded PostgreSQL 18; the integration tests again on Debian's 15, beside
# the DAG tests (orders_sync_devtools/test_suite.py).
test: $(STAMP) system-deps
	$(BIN)/python -m orders_sync_devtools.test_suite

lint: $(STAMP)
	$(BIN)/ruff check orders_sync orders_sync_devtools dags plugins tests benchmarks
	$(BIN)/ruff format --check orders_sync orders_sync_devtools dags plugins tests benchmarks
	$(BIN)/ruff check --preview --select AIR dags orders_sync
	$(BIN)/mypy orders_sync

lock: $(STAMP)
	(echo "# Full lock of the environment (pip freeze of requirements.txt). Regenerate: make lock"; \
	 $(BIN)/pip freeze --exclude-editable | grep -v -i '^orders.sync') > constraints.txt

airflow: $(STAMP) ; scripts/airflow_local.sh $(ARGS)
stop-db: $(STAMP)
	$(BIN)/python -m orders_sync_devtools.embedded_postgres stop

# The DAG tests on another Airflow, installing the built wheel (CI: the oldest and the newest
# supported, .github/workflows/ci.yml).
AIRFLOW_VERSION ?= 3.3.0
airflow-version: $(STAMP)
	orders_sync_devtools/airflow_versions.sh $(AIRFLOW_VERSION)

benchmarks: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
