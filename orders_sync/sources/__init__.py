"""The CRMs this project syncs (``shared/contracts/source-api.md``).

- :mod:`.spec`: what a source is (its declaration); :mod:`.registry`: the sources in use;
  :mod:`.td` and :mod:`.uc`: the two built-in declarations;
- :mod:`.factory`: a source's client built from the settings;
- the clients (:mod:`.td_client`, :mod:`.uc_client` over :mod:`.api_client`), their typed
  rows (:mod:`.models`, decoded by :mod:`.wire`) and errors (:mod:`.errors`).

The CRM simulator is a development tool (:mod:`orders_sync_devtools.simulator`); nothing here
imports it except :mod:`.factory`, and only with ``ORDERS_SYNC_SOURCES=simulator``.
"""
