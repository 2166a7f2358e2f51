"""The service-order queue and an order's page, in Chromium: from the queue to the order, the
matching panel's reasons, and assigning in one click."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext

from models.accounts import StaffRole
from models.service_orders.tables import OrderStatus, ServiceOrder
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD
from tests.factories.service_orders import expert_of, placed_order, union
from tests.factories.unions import demo_org, make_staff


async def test_a_caseworker_assigns_an_order_from_the_queue(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    where = await union(api)
    await expert_of(
        api,
        where,
        name="张国明",
        years=29,
        patents={"us_invention": 3, "cn_invention": 12, "utility_model": 4},
        standards={"national": 2, "group": 10},
    )
    order = await placed_order(api, where)
    caseworker = await make_staff(where.org, StaffRole.CASEWORKER)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.click("nav >> text=企业点单")
    await page.goto("/admin/service-orders?status=submitted")
    await page.screenshot(path=screenshots / "service-orders.png", full_page=True)
    row = page.locator("table.list tbody tr", has_text=f"#{order.id}")
    text = await row.inner_text()
    assert "已提交" in text and "正常" in text and order.enterprise["name"] in text
    await row.locator("a").click()
    await page.wait_for_selector("h1 >> text=客户验厂辅导")
    first = page.locator("ol.candidates > li").first
    first_text = await first.inner_text()
    assert "张国明" in first_text and "行业匹配：新材料" in first_text and "从业 29 年" in first_text
    await page.screenshot(path=screenshots / "service-order-detail.png", full_page=True)
    await first.locator("button", has_text="派单给张国明").click()
    # Opened from the queue of new orders, which it left: that queue (of a new union) is done.
    await page.wait_for_selector("text=这个队列已全部办理完毕")
    await page.goto(f"/admin/service-orders/{order.id}")
    await page.wait_for_selector("h1 >> text=待专家接单")
    assert "已派给 张国明" in await page.inner_text("main")
    stored = await ServiceOrder.get(id=order.id)
    assert stored.status == OrderStatus.OFFERED
    # The union cancels it with a reason, from the same page.
    await page.fill("form[action$='/cancel'] textarea", "企业另有安排")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))  # cancelling asks first
    await page.click("form[action$='/cancel'] button")
    await page.wait_for_selector("h1 >> text=已取消")
    assert (await ServiceOrder.get(id=order.id)).cancel_reason == "企业另有安排"
    # Another city's caseworker is told the order does not exist.
    outsider = await make_staff(await demo_org("湛江市总工会"))
    other = await context.browser.new_context(base_url=page.url.split("/admin")[0])  # type: ignore[union-attr]
    other_page = await other.new_page()
    await log_in(other_page, outsider.username, STAFF_PASSWORD)
    answer = await other_page.goto(f"/admin/service-orders/{order.id}")
    assert answer is not None and answer.status == 404
    await other.close()
