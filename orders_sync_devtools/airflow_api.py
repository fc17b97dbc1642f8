"""A small client of Airflow 3's public REST API (``/api/v2``), for the local stack and tests.

Only what ``make airflow``, the scheduler tests and the benchmark need: the simple auth
manager's token, pools and connections (bulk upsert), pausing, triggering with conf,
and reading runs and task instances.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

FINISHED_RUN_STATES = ("success", "failed")


class AirflowApiError(RuntimeError):
    """The API answered with an error status."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.body = response.text
        super().__init__(
            f"{response.request.method} {response.request.url.path} → "
            f"{response.status_code}: {response.text[:500]}"
        )


class AirflowApi:
    """Authenticated calls to one api-server (simple auth manager's ``/auth/token``)."""

    def __init__(self, base_url: str, username: str, password: str, timeout_s: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)
        self._token: str | None = None

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> AirflowApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def credentials(self) -> tuple[str, str]:
        """The user name and password this client logs in with."""
        return self._username, self._password

    def token(self) -> str:
        """A fresh JWT of this user (``POST /auth/token``)."""
        return self._login()

    # --- plumbing ------------------------------------------------------------------

    def _login(self) -> str:
        response = self._http.post(
            "/auth/token", json={"username": self._username, "password": self._password}
        )
        if response.status_code >= 400:
            raise AirflowApiError(response)
        token = str(response.json()["access_token"])
        self._token = token
        return token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call under ``/api/v2``; logs in (again) when needed; JSON body or ``None``."""
        for attempt in range(2):
            token = self._token or self._login()
            response = self._http.request(
                method, f"/api/v2{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            if response.status_code >= 400:
                raise AirflowApiError(response)
            return response.json() if response.content else None
        raise AssertionError("unreachable")

    def healthy(self) -> bool:
        """Whether the api-server answers its health check (no credentials needed)."""
        try:
            response = self._http.get("/api/v2/monitor/health", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    # --- set-up --------------------------------------------------------------------

    def upsert_pool(self, name: str, slots: int, description: str) -> None:
        """Create or overwrite a pool."""
        self.request(
            "PATCH",
            "/pools",
            json={
                "actions": [
                    {
                        "action": "create",
                        "action_on_existence": "overwrite",
                        "entities": [{"name": name, "slots": slots, "description": description}],
                    }
                ]
            },
        )

    def upsert_connections(self, connections: Sequence[Mapping[str, Any]]) -> None:
        """Create or overwrite connections (``connection_id``, ``conn_type``, ``host``, ...)."""
        self.request(
            "PATCH",
            "/connections",
            json={
                "actions": [
                    {
                        "action": "create",
                        "action_on_existence": "overwrite",
                        "entities": [dict(c) for c in connections],
                    }
                ]
            },
        )

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        """The DAG, or ``None`` while the dag-processor has not parsed it yet."""
        try:
            dag: dict[str, Any] = self.request("GET", f"/dags/{dag_id}")
        except AirflowApiError as exc:
            if exc.status_code == 404:
                return None
            raise
        return dag

    def set_paused(self, dag_id: str, paused: bool) -> None:
        """Pause or unpause a DAG."""
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def import_errors(self) -> list[dict[str, Any]]:
        """The DAG import errors Airflow knows of."""
        errors: list[dict[str, Any]] = self.request("GET", "/importErrors")["import_errors"]
        return errors

    # --- runs ----------------------------------------------------------------------

    def trigger(
        self, dag_id: str, conf: Mapping[str, Any] | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        """Trigger a run with ``conf`` (validated by Airflow against the DAG's params)."""
        body: dict[str, Any] = {"logical_date": None, "conf": dict(conf or {})}
        if run_id:
            body["dag_run_id"] = run_id
        run: dict[str, Any] = self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)
        return run

    def get_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """One DAG run."""
        run: dict[str, Any] = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return run

    def wait_for_run(
        self, dag_id: str, run_id: str, timeout_s: float = 300.0, poll_s: float = 1.0
    ) -> dict[str, Any]:
        """Poll until the run is finished; returns it.

        Raises:
            TimeoutError: still not finished after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.get_run(dag_id, run_id)
            if run["state"] in FINISHED_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAG run {run_id} still {run['state']} after {timeout_s} s")
            time.sleep(poll_s)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of a run, mapped ones included."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.request(
                "GET",
                f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                params={"limit": 100, "offset": len(found)},
            )
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found
