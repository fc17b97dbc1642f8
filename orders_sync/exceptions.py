"""Exceptions a user can cause or act on.

Every exception here carries a message that is one sentence a person can act on; the
command lines print it on one line and exit with status 2 (usage/configuration) or 1.
"""

from __future__ import annotations


class OrdersSyncError(Exception):
    """Base class of every error raised on purpose by orders_sync."""


class ConfigurationError(OrdersSyncError):
    """The environment or an Airflow connection holds a value that cannot be used."""


class UsageError(OrdersSyncError):
    """A command-line flag or a DAG conf value is invalid (bad date, unknown store, ...)."""


class DatabaseUnavailableError(ConfigurationError):
    """The orders database cannot be reached or refused the credentials."""


class DatabaseLost(OrdersSyncError):
    """The orders database stopped answering in the middle of a run (a restart, a network
    cut): the work in flight waits for it and is retried; only when it does not come back in
    time does the store fail, with this cause (``database unavailable: ...``)."""


class RunInterrupted(BaseException):  # noqa: N818 - a stop, like KeyboardInterrupt
    """The run was stopped from outside the window (a deadline, a stop request).

    A ``BaseException``, like ``KeyboardInterrupt``: no window-level handler treats it as a
    source failure. The window in flight is closed as ``failed`` with the close reason
    ``interrupted``, which never makes a day stuck; the next run plans it again.
    """
