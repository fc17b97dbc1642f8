"""Send a profiler run's alert to every configured channel, once its summary is final."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from orders_sync.alerts.email import send_email_alert
from orders_sync.alerts.payload import build_alert
from orders_sync.alerts.webhook import send_run_alert
from orders_sync.config import Settings
from orders_sync.status.coverage import StoreStatus

logger = logging.getLogger(__name__)


def send_alert(settings: Settings, payload: Mapping[str, Any]) -> None:
    """The webhook and the e-mail, each when configured; never raises."""
    send_run_alert(settings.alert_webhook_url, payload)
    try:
        send_email_alert(settings, payload)
    except Exception as exc:  # an alert must never break the run that it reports
        logger.warning("alert e-mail failed: %s: %s", type(exc).__name__, exc)


def alert_run(
    engine: sa.Engine,
    settings: Settings,
    run_id: str,
    *,
    statuses: list[StoreStatus],
    max_days_behind: int,
) -> dict[str, Any] | None:
    """Build the run's alert from the database and send it; ``None`` for a successful run."""
    if not settings.alerts_configured:
        return None
    with engine.connect() as conn:
        payload = build_alert(conn, run_id, statuses=statuses, max_days_behind=max_days_behind)
    if payload is not None:
        send_alert(settings, payload)
    return payload
