"""``orders-sync``: the installed package's one command (interfaces.md "Installed package").

::

    orders-sync run [--env E] [--sync-group G] ...     the profiler (same flags and exits)
    orders-sync td|uc [--store-code C] [--from-date D] [--to-date D] ...
                                                        a source's pipeline, one window
    orders-sync status [--format table|json] ...       coverage per store (read-only)
    orders-sync check [--format table|json] [--offline] the preflight (read-only)
    orders-sync db upgrade [REV] | downgrade REV | current
                                                        the migrations shipped in the package

Each subcommand is the same code as its ``scripts/*.sh`` wrapper; a source's subcommand is its
sync group in lower case (``td`` for ``TD``), for every registered source. Errors are one line
and exit 2, as everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from orders_sync import __version__
from orders_sync.cli import (
    EXIT_OK,
    EXIT_USAGE,
    CommandParser,
    command_settings,
    error_line,
    run_main,
)

USAGE = (
    "usage: orders-sync {run,<source>,status,check,db} ...  "
    "(orders-sync --help for the subcommands)"
)
DB_ACTIONS = ("upgrade", "downgrade", "current")


def _run(argv: Sequence[str]) -> int:
    from orders_sync.run_profiler.main import main

    return main(argv)


def _status(argv: Sequence[str]) -> int:
    from orders_sync.status.main import main

    return main(argv)


def _check(argv: Sequence[str]) -> int:
    from orders_sync.check.main import main

    return main(argv)


def _db(argv: Sequence[str]) -> int:
    parser = CommandParser(
        prog="orders-sync db",
        description="The orders_sync schema: upgrade to this version's head (or REV), downgrade "
        "to REV, or show the current revision. Uses ORDERS_SYNC_DATABASE_URL.",
    )
    parser.add_argument("action", choices=DB_ACTIONS)
    parser.add_argument("revision", nargs="?", help="upgrade: default head; downgrade: required")
    args = parser.parse_args(argv)

    def body() -> int:
        from orders_sync.db.engine import database_url, describe_url
        from orders_sync.db.migrate import current, downgrade, head_revision, upgrade

        url = database_url(command_settings())
        where = describe_url(url)
        if args.action == "upgrade":
            upgrade(url, args.revision or "head")
            print(f"{where}: at revision {current(url)} (this version's head: {head_revision()})")
        elif args.action == "downgrade":
            if not args.revision:
                parser.error("downgrade needs the revision to go down to (e.g. base)")
            downgrade(url, args.revision)
            print(f"{where}: at revision {current(url) or 'base (no orders_sync schema)'}")
        else:
            found = current(url)
            head = head_revision()
            state = "up to date" if found == head else f"this version needs {head}"
            print(f"{where}: at revision {found or 'none (not migrated)'}; {state}")
        return EXIT_OK

    return run_main(body)


def _source_commands() -> dict[str, Callable[[Sequence[str]], int]]:
    from orders_sync.pipelines.standalone import main as standalone
    from orders_sync.sources import registry

    def command(code: str) -> Callable[[Sequence[str]], int]:
        return lambda argv: standalone(code, argv)

    return {
        source.sync_group.lower(): command(source.pipeline_code) for source in registry.sources()
    }


def _help() -> str:
    from orders_sync.sources import registry

    sources = ", ".join(f"{s.sync_group.lower()} ({s.pipeline_code})" for s in registry.sources())
    return (
        f"orders-sync {__version__}: keep per-store CRM orders complete and fresh in PostgreSQL.\n"
        "\n"
        "  orders-sync run ...        one run of the profiler (orders_sync_run_profiler.sh)\n"
        f"  orders-sync <source> ...   one window of a source's pipeline: {sources}\n"
        "  orders-sync status ...     which stores are behind, since when, and why\n"
        "  orders-sync check ...      is this deployment ready to sync? (the preflight)\n"
        "  orders-sync db upgrade [REV] | downgrade REV | current\n"
        "\n"
        "orders-sync <subcommand> --help for its flags."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the subcommand; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(error_line(f"a subcommand is needed; {USAGE}"), file=sys.stderr)
        return EXIT_USAGE
    name, rest = args[0], args[1:]
    if name in ("-h", "--help"):
        print(_help())
        return EXIT_OK
    if name == "--version":
        print(f"orders-sync {__version__}")
        return EXIT_OK
    commands: dict[str, Callable[[Sequence[str]], int]] = {
        "run": _run,
        "status": _status,
        "check": _check,
        "db": _db,
    }
    try:
        commands |= _source_commands()
    except Exception as exc:  # a broken source plugin: one line, as everywhere
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE
    command = commands.get(name)
    if command is None:
        print(error_line(f"unknown subcommand {name!r}; one of: {', '.join(commands)}"),
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    return command(rest)


if __name__ == "__main__":
    raise SystemExit(main())
