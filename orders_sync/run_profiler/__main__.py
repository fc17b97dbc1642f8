"""``python -m orders_sync.run_profiler``: same as ``python -m orders_sync.run_profiler.main``."""

from __future__ import annotations

import os
import sys

from orders_sync.run_profiler.main import main

if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
