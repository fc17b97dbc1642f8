"""Run the Alembic migrations from Python (the README's set-up command, tests, Airflow init)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from orders_sync.config import REPOSITORY_ROOT


def alembic_config(url: str) -> Config:
    """An Alembic config for this repository's ``migrations/`` pointed at ``url``."""
    config = Config(str(REPOSITORY_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPOSITORY_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on ``url``; harmless when already there."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """``alembic downgrade <revision>`` on ``url``."""
    command.downgrade(alembic_config(url), revision)
