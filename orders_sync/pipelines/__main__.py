"""``python -m orders_sync.pipelines td_orders_sync|uc_orders_sync [flags]``: the standalone
commands behind ``scripts/td_orders_sync.sh`` and ``scripts/uc_orders_sync.sh``."""

from __future__ import annotations

import sys

from orders_sync.cli import EXIT_USAGE, error_line
from orders_sync.domain import PIPELINE_CODES
from orders_sync.pipelines.standalone import main

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in PIPELINE_CODES:
        print(error_line(f"the first argument must be one of {', '.join(PIPELINE_CODES)}"),
              file=sys.stderr)  # fmt: skip
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(main(sys.argv[1], sys.argv[2:]))
