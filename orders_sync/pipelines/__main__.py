"""``python -m orders_sync.pipelines PIPELINE [flags]``: the standalone command of a source's
pipeline, behind the ``scripts/<pipeline>.sh`` wrappers."""

from __future__ import annotations

import sys

from orders_sync.cli import EXIT_USAGE, error_line
from orders_sync.pipelines.standalone import main
from orders_sync.sources.registry import pipeline_codes

if __name__ == "__main__":
    codes = pipeline_codes()
    if len(sys.argv) < 2 or sys.argv[1] not in codes:
        print(error_line(f"the first argument must be one of {', '.join(codes)}"), file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(main(sys.argv[1], sys.argv[2:]))
