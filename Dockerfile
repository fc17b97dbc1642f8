# orders_sync on Airflow: the library as a wheel (no dev tools, no tests) and the DAG file.
#   docker compose build        (see docker-compose.yaml and docs/airflow.md)
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY orders_sync ./orders_sync
RUN pip install --no-cache-dir "build==1.6.1" \
 && python -m build --wheel --outdir /dist .

FROM apache/airflow:3.3.2
WORKDIR /opt/airflow
# Airflow stays pinned (the official way to add packages to this image) and the library's
# dependencies follow the project's lock; the plugin comes with the package (entry point),
# the migrations too (`orders-sync db upgrade`).
COPY --chown=airflow:0 constraints.txt /tmp/constraints.txt
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir --constraint /tmp/constraints.txt \
        "apache-airflow==3.3.2" /tmp/dist/orders_sync-0.1.0-py3-none-any.whl
COPY --chown=airflow:0 dags/orders_sync_run_profiler.py /opt/airflow/dags/
