"""``python -m orders_sync_devtools.simulator``: see :mod:`orders_sync_devtools.simulator.cli`."""

from __future__ import annotations

from orders_sync_devtools.simulator.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
