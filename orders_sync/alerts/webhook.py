"""POST an alert to a webhook: bounded retries, never changes the run's status or exit code."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx

logger = logging.getLogger(__name__)

ATTEMPTS = 4
TOTAL_BUDGET_S = 30.0
TIMEOUT_S = 5.0


def post_alert(url: str, payload: Mapping[str, Any]) -> bool:
    """POST ``payload`` as JSON to ``url``, retried briefly (all tries within 30 s).

    Returns:
        Whether a 2xx answer came back; otherwise one WARNING line was logged.
    """
    deadline = time.monotonic() + TOTAL_BUDGET_S
    problem = "not tried"
    for attempt in range(1, ATTEMPTS + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            answer = httpx.post(url, json=dict(payload), timeout=min(TIMEOUT_S, left))
            if 200 <= answer.status_code < 300:
                return True
            problem = f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        if attempt < ATTEMPTS:
            time.sleep(min(0.5 * 2 ** (attempt - 1), max(0.0, deadline - time.monotonic())))
    logger.warning(
        "alert webhook failed after %d attempt(s) (%s); the run's outcome is unchanged",
        ATTEMPTS,
        problem,
        extra={"run_id": payload.get("run_id")},
    )
    return False


def send_run_alert(url: str | None, payload: Mapping[str, Any]) -> None:
    """Send ``payload`` when a webhook is configured; never raises."""
    if not url:
        return
    try:
        post_alert(url, payload)
    except Exception as exc:  # an alert must never break the run that it reports
        logger.warning("alert webhook failed: %s: %s", type(exc).__name__, exc)
