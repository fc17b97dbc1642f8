"""A source's pipeline: one store over one date window, logged and idempotent.

- :mod:`~orders_sync.pipelines.window`: ``WindowRequest``, ``WindowResult``,
  ``WindowPipeline``, ``DEFAULT_SPAN_DAYS``, ``default_window``;
- :mod:`~orders_sync.pipelines.logged_window`: ``SourcePipeline`` — any source's parts run
  as one logged window (requirement §C);
- :mod:`~orders_sync.pipelines.page_writer`: source pages upserted in batches;
- :mod:`~orders_sync.pipelines.registry`: ``open_pipeline(code, engine, settings)``, the
  pipeline of a source by its code, with its client;
- :mod:`~orders_sync.pipelines.standalone`: the standalone command of every source
  (``python -m orders_sync.pipelines CODE``, ``scripts/td_orders_sync.sh``, ...);
- :mod:`~orders_sync.pipelines.td_orders_sync`, :mod:`~orders_sync.pipelines.uc_orders_sync`:
  ``TdOrdersSync`` / ``UcOrdersSync``, the built-in sources' pipelines for library use.

Nothing is imported here, so importing a submodule stays cheap.
"""
