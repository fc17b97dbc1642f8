"""Fixtures of the run profiler's integration tests (defined in ``tests.support.fixtures``).

``db_url`` here overrides the suite's: one database per module, emptied before each test.
"""

from __future__ import annotations

from tests.support.fixtures import db_url, live_sim, module_db_url, real_today, settings, sim

__all__ = ["db_url", "live_sim", "module_db_url", "real_today", "settings", "sim"]
