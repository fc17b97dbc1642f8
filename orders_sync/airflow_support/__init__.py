"""Thin adapters between Airflow and the orders_sync library.

Everything here imports Airflow inside functions only, so ``orders_sync`` imports (and its
tests run) without Airflow installed:

- :mod:`~orders_sync.airflow_support.connections`: Airflow connections → :class:`Settings`;
- :mod:`~orders_sync.airflow_support.dag_config`: the DAG's parse-time knobs (environment only);
- :mod:`~orders_sync.airflow_support.pools`: the ``orders_sync`` pool;
- :mod:`~orders_sync.airflow_support.run_slots`: a run-scoped semaphore for ``max_workers``;
- :mod:`~orders_sync.airflow_support.tasks`: the bodies of the DAG's tasks;
- :mod:`~orders_sync.airflow_support.xcom`: what the tasks pass each other, typed again;
- :mod:`~orders_sync.airflow_support.notifier`: the failure alert as a ``BaseNotifier`` (the
  one module here that imports Airflow at the top; only the DAG file imports it);
- :mod:`~orders_sync_devtools.airflow_api` and
  :mod:`~orders_sync_devtools.airflow_stack`: a local Airflow (``make airflow``, tests).
"""
