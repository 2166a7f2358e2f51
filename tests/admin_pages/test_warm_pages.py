"""The warm-service queue and a request's page, in Chromium: claim, answer, resolve."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext

from models.warm_requests.tables import RequestStatus, WarmRequest
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD
from tests.factories.unions import demo_org, make_org, make_staff
from tests.factories.warm_requests import help_request


async def test_a_caseworker_works_a_request_from_the_queue(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    _, created = await help_request(api, org.id)
    caseworker = await make_staff(org)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.goto("/admin/warm-requests?assignee=none&status=submitted")
    await page.screenshot(path=screenshots / "warm-requests.png", full_page=True)
    row = page.locator("table.list tbody tr", has_text=f"#{created['id']}")
    assert "待受理" in await row.inner_text() and "正常" in await row.inner_text()
    await row.locator("a").click()
    await page.click("form[action$='/claim'] button")
    await page.fill("form[action$='/reply'] textarea", "已联系配送站，正在核实")
    await page.click("form[action$='/reply'] button")
    await page.wait_for_selector("text=已联系配送站，正在核实")
    await page.fill("form[action$='/resolve'] textarea", "配送站已补发")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))  # 办结 asks first
    await page.click("form[action$='/resolve'] button")
    # Opened from the unassigned queue, which it left when claimed: done, the queue is empty.
    await page.wait_for_selector("text=这个队列已全部办理完毕")
    await page.goto(f"/admin/warm-requests/{created['id']}")
    await page.wait_for_selector("h1 >> text=已办结")
    await page.screenshot(path=screenshots / "warm-request-detail.png", full_page=True)
    stored = await WarmRequest.get(id=created["id"])
    assert stored.status == RequestStatus.RESOLVED and stored.assignee_id == caseworker.id
    assert stored.resolution == "配送站已补发"
    # Another union's caseworker is told the request does not exist.
    outsider = await make_staff(await demo_org("湛江市总工会"))
    other = await context.browser.new_context(base_url=context.pages[0].url.split("/admin")[0])  # type: ignore[union-attr]
    other_page = await other.new_page()
    await log_in(other_page, outsider.username, STAFF_PASSWORD)
    answer = await other_page.goto(f"/admin/warm-requests/{created['id']}")
    assert answer is not None and answer.status == 404
    await other.close()
