"""ORM models of the shared and bookkeeping tables: the schema as the application sees it.

Alembic owns the schema (``migrations/``); these models describe the same tables, and
``tests/integration/db/test_migrations.py`` proves that autogenerate finds no difference.
Revisions never import this module. The sources' data tables are declared by their row
(:mod:`orders_sync.sources.rows`) and their migration, and
``tests/integration/sources/test_registry.py`` checks the two agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

_NOW = sa.text("now()")


class Base(DeclarativeBase):
    """Declarative base of every orders_sync table."""


class Pipeline(Base):
    """A row per pipeline code; shared with other systems of the business."""

    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=_NOW)


class PipelineRunSummary(Base):
    """One row per run of a pipeline or of the profiler; shared with other systems."""

    __tablename__ = "pipeline_run_summaries"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    pipeline_name: Mapped[str] = mapped_column(sa.String(64))
    run_env: Mapped[str] = mapped_column(sa.String(32))
    started_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    report_date: Mapped[dt.date] = mapped_column(sa.Date)
    overall_status: Mapped[str] = mapped_column(sa.String(16))
    summary_text: Mapped[str | None] = mapped_column(sa.Text)


class StoreMaster(Base):
    """The stores of the business; shared with other systems."""

    __tablename__ = "store_master"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    store_code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    store_name: Mapped[str | None] = mapped_column(sa.Text)
    sync_group: Mapped[str] = mapped_column(sa.String(8))
    cost_center: Mapped[str | None] = mapped_column(sa.String(8))
    start_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=_NOW)


class OrdersSyncLog(Base):
    """One row per attempt of one store + date window of one pipeline (requirement §A)."""

    __tablename__ = "orders_sync_log"
    __table_args__ = (
        sa.Index(
            "uq_orders_sync_log_window",
            "pipeline_id",
            "store_code",
            "from_date",
            "to_date",
            "run_id",
            unique=True,
        ),  # fmt: skip
        sa.Index(
            "ix_orders_sync_log_lookup",
            "pipeline_id",
            "store_code",
            "from_date",
            "to_date",
            "status",
        ),  # fmt: skip
        sa.Index("ix_orders_sync_log_store_recent", "store_code", sa.text("created_at DESC")),
        sa.Index("ix_orders_sync_log_pipeline_recent", "pipeline_id", sa.text("created_at DESC")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("pipelines.id"))
    run_id: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("pipeline_run_summaries.run_id")
    )
    run_env: Mapped[str] = mapped_column(sa.String(32))
    cost_center: Mapped[str | None] = mapped_column(sa.String(8))
    store_code: Mapped[str] = mapped_column(sa.String(8))
    from_date: Mapped[dt.date] = mapped_column(sa.Date)
    to_date: Mapped[dt.date] = mapped_column(sa.Date)
    orders_pulled_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sales_pulled_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    status: Mapped[str] = mapped_column(sa.String(16))
    attempt_no: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("1"))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=_NOW)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=_NOW)
    # Extra nullable columns (allowed by the interface contract): what the window did.
    window_reason: Mapped[str | None] = mapped_column(sa.String(32))
    rows_fetched: Mapped[int | None] = mapped_column(sa.Integer)
    rows_inserted: Mapped[int | None] = mapped_column(sa.Integer)
    rows_updated: Mapped[int | None] = mapped_column(sa.Integer)
    duration_ms: Mapped[int | None] = mapped_column(sa.Integer)
    # Why the run lifecycle closed the window (orders_sync.domain.CloseReason); NULL: it
    # ended by its source.
    close_reason: Mapped[str | None] = mapped_column(sa.String(32))


class RunBatch(Base):
    """One batch of a DAG run's plan (the jobs one mapped ``sync_store`` task runs)."""

    __tablename__ = "orders_sync_run_batches"

    run_id: Mapped[str] = mapped_column(
        sa.String(64),
        sa.ForeignKey("pipeline_run_summaries.run_id", ondelete="CASCADE"),
        primary_key=True,
    )
    batch_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    label: Mapped[str] = mapped_column(sa.Text)
    plans: Mapped[Any] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=_NOW)


class RunOwner(Base):
    """Who owns a ``pipeline_run_summaries`` row: a process (advisory lock) or Airflow."""

    __tablename__ = "orders_sync_run_owners"
    __table_args__ = (
        sa.CheckConstraint(
            "owner_kind IN ('process', 'airflow')", name="ck_orders_sync_run_owners_kind"
        ),
    )

    run_id: Mapped[str] = mapped_column(
        sa.String(64),
        sa.ForeignKey("pipeline_run_summaries.run_id", ondelete="CASCADE"),
        primary_key=True,
    )
    owner_kind: Mapped[str] = mapped_column(sa.String(16))
    owner: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=_NOW)
