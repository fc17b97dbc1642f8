"""td_orders_sync and uc_orders_sync: one store over one date window, logged and idempotent.

Public API (kept stable for the run profiler and the Airflow DAG):

- :mod:`~orders_sync.pipelines.window`: ``WindowRequest``, ``WindowResult``,
  ``WindowPipeline``, ``DEFAULT_SPAN_DAYS``, ``default_window``;
- :mod:`~orders_sync.pipelines.td_orders_sync`: ``TdOrdersSync``;
- :mod:`~orders_sync.pipelines.uc_orders_sync`: ``UcOrdersSync``;
- :mod:`~orders_sync.pipelines.standalone`: the two commands
  (``python -m orders_sync.pipelines CODE``);
- :mod:`~orders_sync.pipelines.registry`: ``open_pipeline(code, engine, settings)``.

Nothing is imported here, so importing a submodule stays cheap.
"""
