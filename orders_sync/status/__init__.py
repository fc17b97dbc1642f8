"""The coverage of every store × day, from ``orders_sync_log``: ``scripts/orders_sync_status.sh``.

:mod:`~orders_sync.status.coverage` computes it (pure, over what
:mod:`orders_sync.db.repositories.coverage` reads); :mod:`~orders_sync.status.render` shows it
as a table or a day grid; :mod:`~orders_sync.status.main` is the read-only command.
"""
