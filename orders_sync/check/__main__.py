"""``python -m orders_sync.check``: the preflight (``scripts/orders_sync_check.sh``)."""

from __future__ import annotations

import sys

from orders_sync.check.main import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
