"""The coverage page of the Airflow plugin, on the real api-server of the local stack: its
routes refuse requests without Airflow's login, and a real browser (headless Chromium driven
by Playwright) logged in to Airflow sees the store rows, a failing store's error and the grid."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import httpx
import pendulum
import pytest
import sqlalchemy as sa

from tests.dags.conftest import TIMEZONE, RunningStack
from tests.support.seeding import LogRow, Store, seed_log, seed_stores

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ERROR = "orders: SourceServerError: HTTP 500 on page 1"


@pytest.fixture
def stack(airflow_stack: RunningStack, db_url: str) -> RunningStack:
    airflow_stack.use_orders_database(db_url)
    return airflow_stack


def _seed(db_url: str) -> dt.date:
    today = pendulum.today(TIMEZONE).date()
    start = today - dt.timedelta(days=20)
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, [Store("A001", "TD", start), Store("A002", "TD", start),
                             Store("U010", "UC", start)])  # fmt: skip
        seed_log(
            engine,
            [
                LogRow("A001", start, today),
                LogRow("A002", start, today - dt.timedelta(days=6)),
                LogRow("A002", today - dt.timedelta(days=5), today, "failed", error=ERROR),
                LogRow("U010", start, today - dt.timedelta(days=2), pipeline="uc_orders_sync"),
            ],
        )
        # A001's re-fetches of its covered last two days fail in two runs since: stale
        later = pendulum.now("UTC").add(minutes=5)
        for index in range(2):
            seed_log(
                engine,
                [LogRow("A001", today - dt.timedelta(days=1), today, "failed",
                        created_at=later.add(minutes=index), error="orders: stale boom")],
                run_id=f"refetch-{index}",
            )  # fmt: skip
    finally:
        engine.dispose()
    return today


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer not-a-token"}, 403)],
    ids=["no-login", "bad-token"],
)
@pytest.mark.parametrize("path", ["/orders_sync/", "/orders_sync/coverage.json"])
def test_routes_refuse_requests_without_airflows_login(
    stack: RunningStack, path: str, headers: dict[str, str], status: int
) -> None:
    response = httpx.get(stack.api_url + path, headers=headers, timeout=30)
    assert response.status_code == status
    assert "A001" not in response.text


def test_routes_answer_a_logged_in_user_and_the_views_are_registered(
    stack: RunningStack, db_url: str
) -> None:
    today = _seed(db_url)
    token = stack.api.token()
    response = httpx.get(
        f"{stack.api_url}/orders_sync/coverage.json",
        params={"days": 7},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["today"] == today.isoformat() and len(body["days"]) == 7
    by_store = {s["store_code"]: s for s in body["stores"]}
    assert set(by_store) == {"A001", "A002", "U010"}
    assert by_store["A001"]["cells"] == "ccccccc"
    assert by_store["A002"]["cells"] == "cffffff"
    assert by_store["A002"]["failing"][0]["error_message"] == ERROR
    assert by_store["U010"]["cells"] == "cccccmm"
    plugins = stack.api.request("GET", "/plugins")["plugins"]
    [ours] = [p for p in plugins if p["name"] == "orders_sync"]
    assert {v["destination"] for v in ours["external_views"]} == {"nav", "dag"}
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == ["/orders_sync"]


def test_a_logged_in_browser_sees_the_rows_the_error_and_the_grid(
    stack: RunningStack, db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "the test command installs Debian's chromium (make test)"

    _seed(db_url)
    user, password = stack.api.credentials
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 500})
            # Logged out, the page is refused.
            refused = page.goto(f"{stack.api_url}/orders_sync/")
            assert refused is not None and refused.status == 401
            # Log in as a person does, through Airflow's own login form.
            page.goto(f"{stack.api_url}/auth/login/")
            page.get_by_label("Username").fill(user)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)

            page.goto(f"{stack.api_url}/orders_sync/")
            page.wait_for_selector("#coverage tbody tr")
            rows = page.locator("#coverage tbody tr")
            assert rows.count() == 3
            assert rows.first.get_attribute("data-store") == "A002"  # failing first
            assert ERROR in rows.first.inner_text()
            failing = page.locator('tr[data-store="A002"] .cell[data-state="failing"]')
            assert failing.count() == 6
            assert ERROR in (failing.first.get_attribute("title") or "")
            assert page.locator('tr[data-store="A001"] .cell[data-state="covered"]').count() == 21
            assert "3 store(s)" in page.locator("#meta").inner_text()
            assert (
                "1 stale (re-fetches of covered days failing)" in page.locator("#meta").inner_text()
            )
            stale = page.locator('tr[data-store="A001"] td.error')
            assert stale.inner_text().startswith("stale: re-fetches failing, 2 day(s) since ")
            page.locator('th[data-key="store_code"]').click()  # sortable
            assert rows.first.get_attribute("data-store") in ("U010", "A001")
            shot = Path(os.environ.get("ORDERS_SYNC_SCREENSHOT", tmp_path / "coverage.png"))
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0
        finally:
            browser.close()
