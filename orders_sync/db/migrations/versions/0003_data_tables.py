"""Data tables td_orders, td_sales, uc_orders: one row per source key, written by upsert.

Every field of the source rows (source-api.md) under the same name, money as
NUMERIC(12,2), plus bookkeeping: ``first_seen_at``, ``last_synced_at`` (when a sync last
changed the row) and ``last_run_id``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BOOKKEEPING = """
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_run_id VARCHAR(64) NULL
"""


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE td_orders (
            id BIGSERIAL PRIMARY KEY,
            store_code VARCHAR(8) NOT NULL,
            order_number VARCHAR(64) NOT NULL,
            order_date DATE NOT NULL,
            order_time TIME NULL,
            customer_name TEXT NULL,
            mobile_number VARCHAR(20) NULL,
            service_type VARCHAR(64) NULL,
            pieces INT NULL,
            gross_amount NUMERIC(12, 2) NOT NULL,
            discount_amount NUMERIC(12, 2) NOT NULL,
            net_amount NUMERIC(12, 2) NOT NULL,
            order_status VARCHAR(16) NOT NULL,
            last_modified TIMESTAMPTZ NOT NULL,
            {_BOOKKEEPING},
            CONSTRAINT uq_td_orders_store_order UNIQUE (store_code, order_number)
        )
        """
    )
    op.execute("CREATE INDEX ix_td_orders_store_date ON td_orders (store_code, order_date)")
    op.execute(
        f"""
        CREATE TABLE td_sales (
            id BIGSERIAL PRIMARY KEY,
            store_code VARCHAR(8) NOT NULL,
            transaction_id VARCHAR(64) NOT NULL,
            order_number VARCHAR(64) NOT NULL,
            payment_date DATE NOT NULL,
            payment_mode VARCHAR(16) NOT NULL,
            amount NUMERIC(12, 2) NOT NULL,
            last_modified TIMESTAMPTZ NOT NULL,
            {_BOOKKEEPING},
            CONSTRAINT uq_td_sales_store_transaction UNIQUE (store_code, transaction_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_td_sales_store_date ON td_sales (store_code, payment_date)")
    op.execute(
        f"""
        CREATE TABLE uc_orders (
            id BIGSERIAL PRIMARY KEY,
            store_code VARCHAR(8) NOT NULL,
            invoice_no VARCHAR(64) NOT NULL,
            invoice_date DATE NOT NULL,
            order_id VARCHAR(64) NULL,
            customer_name TEXT NULL,
            customer_gstin VARCHAR(15) NULL,
            hsn_sac VARCHAR(16) NULL,
            taxable_value NUMERIC(12, 2) NOT NULL,
            cgst NUMERIC(12, 2) NOT NULL,
            sgst NUMERIC(12, 2) NOT NULL,
            igst NUMERIC(12, 2) NOT NULL,
            invoice_total NUMERIC(12, 2) NOT NULL,
            last_modified TIMESTAMPTZ NOT NULL,
            {_BOOKKEEPING},
            CONSTRAINT uq_uc_orders_store_invoice UNIQUE (store_code, invoice_no)
        )
        """
    )
    op.execute("CREATE INDEX ix_uc_orders_store_date ON uc_orders (store_code, invoice_date)")


def downgrade() -> None:
    op.execute("DROP TABLE uc_orders")
    op.execute("DROP TABLE td_sales")
    op.execute("DROP TABLE td_orders")
