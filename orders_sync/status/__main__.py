"""``python -m orders_sync.status``: see :mod:`orders_sync.status.main`."""

from __future__ import annotations

from orders_sync.status.main import main

if __name__ == "__main__":
    raise SystemExit(main())
