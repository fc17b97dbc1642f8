"""The coverage page of the Airflow plugin, on the real api-server of the local stack.

Its routes refuse requests without Airflow's login; "Sync now" is refused to a read-only user
and works for one who may trigger the DAG; and a real browser (headless Chromium driven by
Playwright) logged in through Airflow's own form sees a 1,000-store chain: the overview
numbers, the worst stores first, a daily failure as one streak, the prefix filter, an
unreachable database as one line with no stale rows, and the "Sync now" round trip.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import httpx
import pendulum
import pytest
import sqlalchemy as sa

from orders_sync_devtools.airflow_api import AirflowApiError
from orders_sync_devtools.airflow_stack import orders_db_connection
from orders_sync_devtools.chain import chain_stores, seed_chain
from tests.dags.conftest import DAG_ID, TIMEZONE, RunningStack

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHAIN = 1000
DEAD_URL = "postgresql://orders_app:s3cret-pw@127.0.0.1:9/orders"


@pytest.fixture
def stack(airflow_stack: RunningStack, db_url: str) -> RunningStack:
    airflow_stack.use_orders_database(db_url)
    return airflow_stack


@pytest.fixture
def chain(db_url: str) -> dt.date:
    today = pendulum.today(TIMEZONE).date()
    engine = sa.create_engine(db_url)
    try:
        seed_chain(engine, CHAIN, today)
    finally:
        engine.dispose()
    return today


def _runs_of(stack: RunningStack) -> list[dict[str, Any]]:
    return list(stack.api.request("GET", f"/dags/{DAG_ID}/dagRuns")["dag_runs"])


def _finish_runs(stack: RunningStack, before: set[str]) -> dict[str, dict[str, Any]]:
    """Wait for the runs a test triggered (they read the test's database) to finish."""
    return {
        run["dag_run_id"]: stack.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout_s=240)
        for run in _runs_of(stack)
        if run["dag_run_id"] not in before
    }


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer not-a-token"}, 403)],
    ids=["no-login", "bad-token"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/orders_sync/"),
        ("GET", "/orders_sync/coverage.json"),
        ("POST", "/orders_sync/sync"),
    ],  # fmt: skip
)
def test_routes_refuse_requests_without_airflows_login(
    stack: RunningStack, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    before = {run["dag_run_id"] for run in _runs_of(stack)}
    response = httpx.request(
        method, stack.api_url + path, headers=headers, json={"store_code": "A0001"}, timeout=30
    )
    assert response.status_code == status
    assert "A0001" not in response.text
    assert {run["dag_run_id"] for run in _runs_of(stack)} == before


def _bearer(api: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token()}"}


def _coverage(stack: RunningStack, api: Any) -> httpx.Response:
    return httpx.get(f"{stack.api_url}/orders_sync/coverage.json", params={"days": 7},
                     headers=_bearer(api), timeout=60)  # fmt: skip


def test_the_data_is_compact_and_only_a_user_who_may_trigger_can_sync_now(
    stack: RunningStack, chain: dt.date
) -> None:
    before = {run["dag_run_id"] for run in _runs_of(stack)}
    try:
        response = _coverage(stack, stack.api)
        assert response.status_code == 200, response.text
        assert response.headers["content-encoding"] == "gzip"
        body = response.json()
        assert body["can_sync"] is True and body["counts"]["stores"] == CHAIN
        assert body["today"] == chain.isoformat() and body["days"] == 7
        rows = [dict(zip(body["columns"], row, strict=True)) for row in body["rows"]]
        assert rows[0]["days_behind"] == 1001 and rows[0]["cells"] == "m7"  # never synced
        healthy = next(r for r in rows if r["store_code"] == "A0200")
        assert healthy["cells"] == "c7" and healthy["streak"] is None

        # A read-only user sees the page but may not trigger: 403, and no run is created.
        viewer = _coverage(stack, stack.viewer)
        assert viewer.status_code == 200 and viewer.json()["can_sync"] is False
        refused = httpx.post(f"{stack.api_url}/orders_sync/sync", json={"store_code": "A0200"},
                             headers=_bearer(stack.viewer), timeout=60)  # fmt: skip
        assert refused.status_code == 403
        with pytest.raises(AirflowApiError) as denied:  # Airflow's own endpoint agrees
            stack.viewer.trigger(DAG_ID, {"store_code": "A0200"})
        assert denied.value.status_code == 403
        assert {run["dag_run_id"] for run in _runs_of(stack)} == before

        # Bad input: one line, nothing triggered; a cross-site form post is not JSON: refused.
        unknown = httpx.post(f"{stack.api_url}/orders_sync/sync", json={"store_code": "ZZ99"},
                             headers=_bearer(stack.api), timeout=60)  # fmt: skip
        assert unknown.status_code == 400
        assert unknown.json()["detail"] == "unknown store code 'ZZ99': no such row in store_master."
        form = httpx.post(f"{stack.api_url}/orders_sync/sync", data={"store_code": "A0200"},
                          headers=_bearer(stack.api), timeout=60)  # fmt: skip
        assert form.status_code == 422
        assert {run["dag_run_id"] for run in _runs_of(stack)} == before

        # A user who may trigger: a run of the DAG for that store, theirs, with a note.
        started = httpx.post(f"{stack.api_url}/orders_sync/sync", json={"store_code": "A0200"},
                             headers=_bearer(stack.api), timeout=60)  # fmt: skip
        assert started.status_code == 200, started.text
        answer = started.json()
        run = stack.api.get_run(DAG_ID, answer["dag_run_id"])
        assert run["conf"] == {"store_code": "A0200"} and run["run_type"] == "manual"
        assert run["triggering_user_name"] == "admin"
        [logged] = [e for e in stack.api.request("GET", "/eventLogs", params={
            "dag_id": DAG_ID, "event": "trigger_dag_run"})["event_logs"]
            if e["run_id"] == answer["dag_run_id"]]  # fmt: skip
        assert logged["owner"] == "admin" and "A0200" in logged["extra"]  # the audit log
        assert answer["url"].endswith(f"/dags/{DAG_ID}/runs/" + answer["dag_run_id"].replace(
            ":", "%3A").replace("+", "%2B"))  # fmt: skip
    finally:
        finished = _finish_runs(stack, before)
    assert [run["state"] for run in finished.values()] == ["success"]


def _login(page: Any, stack: RunningStack) -> None:
    user, password = stack.api.credentials
    page.goto(f"{stack.api_url}/auth/login/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)


def _store_rows(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all("#coverage tbody tr", "rows => rows.map(r => r.dataset.store)")
    )


def test_a_browser_sees_the_chains_health_worst_first_and_can_act_on_a_store(
    stack: RunningStack, chain: dt.date, db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "the test command installs Debian's chromium (make test)"
    kinds = {s.store_code: s for s in chain_stores(CHAIN, chain)}
    before = {run["dag_run_id"] for run in _runs_of(stack)}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            refused = page.goto(f"{stack.api_url}/orders_sync/")
            assert refused is not None and refused.status == 401
            _login(page, stack)
            page.goto(f"{stack.api_url}/orders_sync/")
            page.wait_for_selector("body[data-state=ready]")

            # 1. The chain in numbers, each a filter.
            numbers = {
                b.get_attribute("data-health"): b.locator("b").inner_text()
                for b in page.locator("#overview button").all()
            }
            assert numbers == {"stores": "1,000", "up_to_date": "905", "behind": "90",
                               "never_synced": "5", "failing": "51", "stuck": "38",
                               "running": "5"}  # fmt: skip

            # 2. Worst first without sorting: never synced, then most days behind; 50 rows.
            shown = _store_rows(page)
            assert len(shown) == 50
            assert [kinds[code].kind for code in shown[:5]] == ["never"] * 5
            assert kinds[shown[5]].kind == "failing" and kinds[shown[6]].kind == "behind"
            assert "rows 1–50 of 1,000" in page.locator("#range").inner_text()
            assert page.evaluate("document.getElementsByTagName('*').length") < 3000

            # 3. A daily failure is one streak, with since and attempts; the newest day in view.
            worst = page.locator(f'tr[data-store="{shown[5]}"]')
            problem = worst.locator("td.problem").inner_text()
            since = (chain - dt.timedelta(days=58)).isoformat()
            assert problem.startswith(f"failing 59 days since {since} (59 attempts): orders:")
            assert "[stuck 58 days since" in problem and "(x1)" not in problem
            newest = worst.locator(".seg").last
            assert newest.get_attribute("data-state") == "failing"
            assert newest.get_attribute("data-to") == chain.isoformat()
            assert newest.is_visible()
            box, grid = newest.bounding_box(), worst.locator(".grid").bounding_box()
            assert box and grid and box["x"] + box["width"] <= grid["x"] + grid["width"] + 1
            assert box["x"] + box["width"] <= 1600  # the newest day is on screen

            # 4. A number filters; the store filter is a case-insensitive prefix.
            page.locator('#overview button[data-health="failing"]').click()
            assert "of 51" in page.locator("#range").inner_text()
            page.locator('#overview button[data-health="stores"]').click()
            page.get_by_label("Store").fill("a00")
            filtered = _store_rows(page)
            assert filtered and all(code.startswith("A00") for code in filtered)
            assert "of 65" in page.locator("#range").inner_text()  # A0000..A0099 are TD 65
            page.get_by_label("Store").fill("")

            # 5. The database unreachable: its one line, never the password; no stale rows.
            stack.api.upsert_connections([orders_db_connection(DEAD_URL)])
            page.get_by_role("button", name="Reload").click()
            page.wait_for_selector("body[data-state=error]")
            error = page.locator("#error").inner_text()
            assert error.startswith("Could not load the coverage: cannot connect to the orders "
                                    "database")  # fmt: skip
            assert "s3cret" not in error and "\n" not in error
            assert _store_rows(page) == [] and page.locator("#overview button").count() == 0
            stack.use_orders_database(db_url)
            page.get_by_role("button", name="Reload").click()
            page.wait_for_selector("body[data-state=ready]")
            assert len(_store_rows(page)) == 50

            # 6. Sync now: a run of the DAG for that store, linked from the page.
            target = shown[5]
            page.locator(f'tr[data-store="{target}"] button.sync').click()
            link = page.locator("#notice a")
            link.wait_for()
            run_id = link.inner_text()
            run = stack.api.get_run(DAG_ID, run_id)
            assert run["conf"] == {"store_code": target}
            assert run["triggering_user_name"] == "admin"
            assert f"/dags/{DAG_ID}/runs/" in (link.get_attribute("href") or "")

            # The run makes the automatic decision for that store alone and catches it up.
            assert stack.api.wait_for_run(DAG_ID, run_id, timeout_s=240)["state"] == "success"
            page.get_by_role("button", name="Reload").click()
            page.wait_for_selector("body[data-state=ready]")
            assert numbers["failing"] == "51"
            assert page.locator('#overview button[data-health="failing"] b').inner_text() == "50"
            page.get_by_label("Store").fill(target.lower())
            assert page.locator(f'tr[data-store="{target}"] td.problem').inner_text() == ""
            page.get_by_label("Store").fill("")

            shot = Path(os.environ.get("ORDERS_SYNC_SCREENSHOT", tmp_path / "coverage.png"))
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 0
        finally:
            browser.close()
            stack.use_orders_database(db_url)
            _finish_runs(stack, before)
