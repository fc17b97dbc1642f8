"""Fixtures of the status tests: a database per module (see ``tests.support.fixtures``)."""

from __future__ import annotations

from tests.support.fixtures import db_url, module_db_url

__all__ = ["db_url", "module_db_url"]
