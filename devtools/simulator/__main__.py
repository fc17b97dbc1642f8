"""``python -m devtools.simulator``: see :mod:`devtools.simulator.cli`."""

from __future__ import annotations

from devtools.simulator.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
