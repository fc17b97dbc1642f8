"""The README's main command (``make run``): embedded database, schema, and the main job."""

from __future__ import annotations

import sys

from orders_sync.config import get_settings
from orders_sync.db.engine import check_connection, database_url, describe_url, get_engine
from orders_sync.db.migrate import upgrade
from orders_sync.exceptions import OrdersSyncError


def main() -> int:
    """Start (or reuse) the database, migrate it, and report."""
    try:
        settings = get_settings()
        url = database_url(settings)
        check_connection(get_engine(settings))
        upgrade(url)
    except OrdersSyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"schema ready on {describe_url(url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
