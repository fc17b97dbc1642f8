"""The DAG's failure alert as an Airflow notifier (``BaseNotifier``).

Attached to the ``check`` task's ``on_failure_callback``: ``check`` fails exactly once per DAG
run whose profiler run ended ``failed`` or ``partial`` (or never started), after ``finish``
made its summary final, so the alert goes out once per DAG run — never once per mapped task.
The payload is the command line's (:mod:`orders_sync.alerts.payload`), read from the database.

Unlike the rest of :mod:`orders_sync.airflow_support` this module imports Airflow at the top:
a notifier is a subclass of Airflow's ``BaseNotifier``, imported only by the DAG file.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseNotifier


class OrdersSyncAlertNotifier(BaseNotifier):
    """Send the orders_sync alert of the DAG run (webhook and/or e-mail, as configured)."""

    def notify(self, context: Any) -> None:
        """Build the run's alert and send it; never fails the callback."""
        from orders_sync.airflow_support.dag_alert import send_dag_run_alert

        send_dag_run_alert(context["ti"], context.get("params") or {})
