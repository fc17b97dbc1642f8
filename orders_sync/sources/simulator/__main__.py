"""``python -m orders_sync.sources.simulator``: see :mod:`orders_sync.sources.simulator.cli`."""

from __future__ import annotations

from orders_sync.sources.simulator.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
