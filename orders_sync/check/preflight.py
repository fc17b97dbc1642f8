"""The preflight: is this deployment ready to sync? (interfaces.md "Preflight").

The way ``dbt debug`` or ``airflow db check`` work: every check a run depends on, found now
rather than in a week — the database, the schema's revision, the privileges a run needs, where
``store_master`` was found and the stores it selects, and each source with stores to sync.
Nothing is written. A check that cannot run because an earlier one failed is still reported
(``fail`` or ``warn``), never left out; no token or password is ever shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Iterator, Sequence

import sqlalchemy as sa

from orders_sync.config import SOURCES_SIMULATOR, Settings
from orders_sync.db.engine import describe_url
from orders_sync.db.migrate import current_revision, head_revision
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources import factory, registry
from orders_sync.sources.errors import SourceAuthError, SourceError
from orders_sync.sources.spec import Source


class Level(enum.StrEnum):
    """A check's outcome."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One check: its name, its outcome and one sentence saying what to do when not ``ok``."""

    name: str
    status: Level
    detail: str

    def to_json(self) -> dict[str, str]:
        """``{"name", "status", "detail"}``."""
        return {"name": self.name, "status": str(self.status), "detail": self.detail}


MIGRATE = "run the migrations (alembic upgrade head, or orders-sync db upgrade)"


@dataclasses.dataclass(frozen=True, slots=True)
class Privilege:
    """A privilege a run needs on one object."""

    kind: str  # "table", "sequence", "database"
    name: str
    privilege: str


# The tables of a run and what it does to each (SQL lives in db/repositories).
_TABLE_PRIVILEGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pipelines", ("SELECT",)),
    ("store_master", ("SELECT",)),
    ("pipeline_run_summaries", ("SELECT", "INSERT", "UPDATE")),
    ("orders_sync_log", ("SELECT", "INSERT", "UPDATE")),
    ("orders_sync_run_owners", ("SELECT", "INSERT", "DELETE")),
    ("orders_sync_run_batches", ("SELECT", "INSERT", "DELETE")),
    ("orders_sync_run_outcomes", ("SELECT", "INSERT", "UPDATE", "DELETE")),
)
_DATA_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE")


def needed_privileges() -> list[tuple[str, tuple[str, ...]]]:
    """Every table a run writes or reads, with the privileges it needs on it."""
    data = [(table.name, _DATA_TABLE_PRIVILEGES) for table in registry.data_tables()]
    return [*_TABLE_PRIVILEGES, *data]


def check_database(conn: sa.Connection, url: sa.URL) -> Check:
    """``database``: reachable, which server, as whom."""
    version, user = conn.execute(
        sa.text("SELECT current_setting('server_version'), current_user")
    ).one()
    return Check("database", Level.OK, f"PostgreSQL {version} at {describe_url(url)} as {user}")


def check_schema(conn: sa.Connection) -> Check:
    """``schema``: migrated to this version's head."""
    head = head_revision()
    current = current_revision(conn)
    if current is None:
        return Check("schema", Level.FAIL, "no orders_sync schema: " + MIGRATE)
    if current == head:
        return Check("schema", Level.OK, f"at revision {head}, this version's head")
    if current < head:
        return Check(
            "schema",
            Level.FAIL,
            f"at revision {current}, this version needs {head}: {MIGRATE}",
        )
    return Check(
        "schema",
        Level.FAIL,
        f"at revision {current}, newer than this version's {head}: install the orders_sync "
        "version that migrated it",
    )


def _missing_privileges(conn: sa.Connection) -> Iterator[str]:
    for table, privileges in needed_privileges():
        if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
            continue  # the schema check says so
        qualified = conn.execute(
            sa.text("SELECT CAST(to_regclass(:t) AS TEXT)"), {"t": table}
        ).scalar_one()
        for privilege in privileges:
            granted = conn.execute(
                sa.text("SELECT has_table_privilege(to_regclass(:t), :p)"),
                {"t": table, "p": privilege},
            ).scalar_one()
            if not granted:
                yield f"{privilege} on {qualified}"
        if "INSERT" in privileges:
            owned = conn.execute(
                sa.text(
                    """
                    SELECT CAST(CAST(d.objid AS regclass) AS TEXT)
                    FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                    WHERE d.refobjid = to_regclass(:t) AND d.deptype IN ('a', 'i')
                    """
                ),
                {"t": table},
            ).scalars()
            for sequence in owned:
                granted = conn.execute(
                    sa.text("SELECT has_sequence_privilege(:s, 'USAGE')"), {"s": sequence}
                ).scalar_one()
                if not granted:
                    yield f"USAGE on sequence {sequence}"
    # The upsert stages changed rows in a session-local temporary table.
    database = conn.execute(sa.text("SELECT current_database()")).scalar_one()
    if not conn.execute(
        sa.text("SELECT has_database_privilege(current_database(), 'TEMPORARY')")
    ).scalar_one():
        yield f"TEMPORARY on database {database}"


def check_privileges(conn: sa.Connection) -> Check:
    """``privileges``: everything a run needs, found now."""
    user = conn.execute(sa.text("SELECT current_user")).scalar_one()
    missing = list(_missing_privileges(conn))
    if missing:
        return Check(
            "privileges",
            Level.FAIL,
            f"{user} lacks {', '.join(missing)}: have them granted (README, "
            "'Preparing the database')",
        )
    return Check("privileges", Level.OK, f"{user} has every privilege a run needs")


@dataclasses.dataclass(frozen=True)
class StoreCount:
    """What ``store_master`` holds for the run."""

    location: str
    per_group: dict[str, int]
    other_copies: list[str]


def count_stores(conn: sa.Connection) -> StoreCount:
    """Active stores with a start date per registered sync group, where ``store_master`` was
    found, and other copies of it in the database that hold stores."""
    from orders_sync.db.repositories.stores import store_master_location

    groups = registry.sync_groups()
    rows = conn.execute(
        sa.text(
            """
            SELECT sync_group, count(*) FROM store_master
            WHERE is_active AND start_date IS NOT NULL AND store_code IS NOT NULL
              AND sync_group = ANY(:groups)
            GROUP BY sync_group
            """
        ),
        {"groups": list(groups)},
    ).all()
    counts = dict.fromkeys(groups, 0) | {str(g): int(n) for g, n in rows}
    others = conn.execute(
        sa.text(
            """
            SELECT quote_ident(n.nspname) || '.store_master'
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = 'store_master' AND c.relkind IN ('r', 'p', 'v')
              AND c.oid <> to_regclass('store_master')
              AND has_table_privilege(c.oid, 'SELECT')
            ORDER BY 1
            """
        )
    ).scalars()
    holding = [
        name
        for name in others
        if conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {name})")).scalar_one()
    ]
    return StoreCount(store_master_location(conn), counts, holding)


def check_stores(stores: StoreCount) -> Check:
    """``stores``: active stores per sync group; ``fail`` when none."""
    listed = ", ".join(f"{group} {n}" for group, n in stores.per_group.items())
    elsewhere = (
        f"; another copy holding stores: {', '.join(stores.other_copies)} (is the search_path "
        "right?)"
        if stores.other_copies
        else ""
    )
    if not any(stores.per_group.values()):
        return Check(
            "stores",
            Level.FAIL,
            f"{stores.location} has no active store with a start_date ({listed}){elsewhere}: "
            "check the database and store_master",
        )
    level = Level.WARN if stores.other_copies else Level.OK
    return Check("stores", level, f"{listed} active in {stores.location}{elsewhere}")


def check_name(source: Source) -> str:
    """``source_td`` for the TD source."""
    return f"source_{source.sync_group.lower()}"


def probe_source(source: Source, settings: Settings, store_code: str, today: dt.date) -> None:
    """One authenticated request: the first page of the source's first part for one store.

    Raises:
        SourceError: the request failed (``SourceAuthError`` on 401/403).
    """
    one_try = dataclasses.replace(settings, http_max_attempts=1, http_timeout_s=10.0)
    client = factory.client_for(source, one_try)
    try:
        pages = getattr(client, source.parts[0].pages)(store_code, today, today)
        next(iter(pages), None)
    finally:
        client.close()


def check_source(
    source: Source,
    settings: Settings,
    *,
    stores: int | None,
    first_store: str | None,
    offline: bool,
    probe: Callable[[Source, Settings, str, dt.date], None] = probe_source,
) -> Check:
    """``source_<group>``: configured, and one authenticated request succeeds (unless
    ``offline``) — for a group with active stores."""
    name = check_name(source)
    if stores == 0:
        return Check(name, Level.OK, f"no active {source.sync_group} store: not needed")
    if settings.sources == SOURCES_SIMULATOR:
        return Check(
            name,
            Level.WARN,
            "ORDERS_SYNC_SOURCES=simulator: simulated data, never for a real database",
        )
    try:
        base_url, _ = factory.require_source(settings, source)
    except ConfigurationError as exc:
        return Check(name, Level.FAIL, str(exc))
    where = f"{source.base_url_variable} {base_url}"
    if stores is None or first_store is None:
        return Check(
            name, Level.WARN, f"configured ({where}); not contacted: the stores are unknown"
        )
    if offline:
        return Check(name, Level.OK, f"configured ({where}); not contacted (--offline)")
    try:
        probe(source, settings, first_store, settings.today())
    except SourceAuthError:
        return Check(
            name,
            Level.FAIL,
            f"authentication failed at {where}: check {source.token_variable}",
        )
    except SourceError as exc:
        return Check(name, Level.FAIL, f"the request to {where} failed: {exc}")
    return Check(name, Level.OK, f"{where} answers with {source.token_variable}")


def _first_stores(conn: sa.Connection) -> dict[str, str]:
    rows = conn.execute(
        sa.text(
            """
            SELECT sync_group, min(store_code) FROM store_master
            WHERE is_active AND start_date IS NOT NULL AND store_code IS NOT NULL
            GROUP BY sync_group
            """
        )
    ).all()
    return {str(group): str(code) for group, code in rows}


def run_checks(
    engine: sa.Engine,
    settings: Settings,
    *,
    offline: bool = False,
    probe: Callable[[Source, Settings, str, dt.date], None] = probe_source,
) -> list[Check]:
    """Every check, in order; nothing is written."""
    checks: list[Check] = []
    try:
        conn_context = engine.connect()
        conn = conn_context.__enter__()
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        why = "not checked: the database is unreachable"
        checks.append(
            Check(
                "database",
                Level.FAIL,
                f"cannot connect to {describe_url(engine.url)}: {reason} — check "
                "ORDERS_SYNC_DATABASE_URL (in Airflow the connection orders_sync_db)",
            )
        )
        checks += [Check(name, Level.FAIL, why) for name in ("schema", "privileges", "stores")]
        checks += [
            check_source(s, settings, stores=None, first_store=None, offline=True)
            for s in registry.sources()
        ]
        return checks
    try:
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        checks.append(check_database(conn, engine.url))
        schema = check_schema(conn)
        checks.append(schema)
        store_count: StoreCount | None = None
        firsts: dict[str, str] = {}
        if conn.execute(sa.text("SELECT to_regclass('store_master')")).scalar() is None:
            checks.append(Check("privileges", Level.FAIL, "not checked: " + schema.detail))
            checks.append(Check("stores", Level.FAIL, "no store_master table: " + MIGRATE))
        else:
            checks.append(check_privileges(conn))
            try:
                store_count = count_stores(conn)
                firsts = _first_stores(conn)
                checks.append(check_stores(store_count))
            except sa.exc.DBAPIError as exc:
                conn.rollback()
                conn.execute(sa.text("SET TRANSACTION READ ONLY"))
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                checks.append(Check("stores", Level.FAIL, f"store_master cannot be read: {reason}"))
    finally:
        conn_context.__exit__(None, None, None)
    for source in registry.sources():
        count = store_count.per_group.get(source.sync_group) if store_count else None
        checks.append(
            check_source(
                source,
                settings,
                stores=count,
                first_store=firsts.get(source.sync_group),
                offline=offline,
                probe=probe,
            )
        )
    return checks


def ready(checks: Sequence[Check]) -> bool:
    """Whether no check failed (warnings allowed)."""
    return all(check.status != Level.FAIL for check in checks)


def render_table(checks: Sequence[Check]) -> str:
    """One line per check: status, name, detail."""
    width = max(len(check.name) for check in checks)
    return "\n".join(
        f"{check.status:<4}  {check.name:<{width}}  {check.detail}" for check in checks
    )
