"""E-mail an alert through SMTP: subject with status, env and date; the webhook's content as
plain text. Never raises: a mail server that fails changes nothing but a warning."""

from __future__ import annotations

import email.policy
import logging
import smtplib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Any

from orders_sync.config import Settings

logger = logging.getLogger(__name__)

TIMEOUT_S = 10.0


def render_email(payload: Mapping[str, Any], *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The alert as a plain-text message."""
    # Subjects stay on one line (a folded subject unfolds with a stray space in some readers).
    message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
    message["Subject"] = (
        f"[orders_sync] {payload['overall_status']}: {payload['pipeline_name']} "
        f"({payload['run_env']}, {payload['report_date']})"
    )
    message["From"] = sender
    message["To"] = ", ".join(to)
    lines = [
        payload["text"],
        "",
        f"run_id:   {payload['run_id']}",
        f"status:   {payload['overall_status']}",
        f"summary:  {payload['summary_text']}",
    ]
    if payload["failures"]:
        lines += ["", "Failed or partial windows:"]
        lines += [
            f"  {f['store_code']} {f['pipeline']} {f['from_date']}..{f['to_date']} "
            f"{f['status']}{' (stuck)' if f.get('stuck') else ''}: {f['error_message']}"
            for f in payload["failures"]
        ]
    if payload.get("not_synced"):
        lines += ["", "Stores that did not sync (no failed window to show):"]
        lines += [
            f"  {n['store_code']} {n['pipeline']}: {n['outcome']}"
            + (f": {n['detail']}" if n["detail"] else "")
            for n in payload["not_synced"]
        ]
    if payload.get("stale_stores"):
        lines += ["", "Stale stores (days behind):"]
        lines += [
            f"  {s['store_code']} {s['pipeline']}: {s['days_behind']} "
            f"(covered through {s['covered_through']})"
            for s in payload["stale_stores"]
        ]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_email_alert(settings: Settings, payload: Mapping[str, Any]) -> bool:
    """Send the alert to ``settings.alert_email_to``; returns whether the server accepted it."""
    if not settings.alert_email_to:
        return False
    message = render_email(payload, sender=settings.smtp_from, to=settings.alert_email_to)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning(
            "alert e-mail to %s failed (%s: %s); the run's outcome is unchanged",
            ", ".join(settings.alert_email_to),
            type(exc).__name__,
            exc,
        )
        return False
    return True
