"""orders_sync: keep per-store TD and UC CRM orders complete and fresh in PostgreSQL."""

from __future__ import annotations

__version__ = "0.1.0"
