"""SLA policies in Chromium: a union admin sees the effective policy of each request type (the
defaults, their own, or inherited from above) and changes one; caseworkers have no such page."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import BrowserContext

from models.accounts import StaffRole
from models.kernel.calendar import CalendarKind
from models.warm_requests.tables import SlaPolicy
from tests.admin_pages.conftest import log_in
from tests.admin_pages.test_permissions import browser_as
from tests.factories.common import STAFF_PASSWORD
from tests.factories.unions import demo_org, make_org, make_staff


async def test_a_union_admin_sets_a_target_that_the_subtree_inherits(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path, stack
) -> None:
    city = await make_org(await demo_org("中山市总工会"))
    town = await make_org(city)
    admin = await make_staff(city, StaffRole.UNION_ADMIN)
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.click("nav >> text=服务时限")
    row = page.locator("table.list tbody tr", has_text="心理")
    assert "默认时限" in await row.inner_text()

    await row.locator("select[name=calendar]").select_option("24x7")
    await row.locator("input[name=first_response_minutes]").fill("700")
    await row.locator("input[name=resolution_minutes]").fill("600")
    await row.locator("button").click()
    await page.wait_for_selector("p.error >> text=首次响应时限不超过办结时限")
    assert not await SlaPolicy.exists(org_id=city.id)

    row = page.locator("table.list tbody tr", has_text="心理")
    await row.locator("select[name=calendar]").select_option("24x7")
    await row.locator("input[name=first_response_minutes]").fill("30")
    await row.locator("input[name=resolution_minutes]").fill("600")
    await row.locator("button").click()
    await page.wait_for_selector("text=已保存")
    assert "本工会规定" in await page.locator("table.list tbody tr", has_text="心理").inner_text()
    policy = await SlaPolicy.get(org_id=city.id, request_type="counselling")
    assert (policy.calendar, policy.first_response_minutes, policy.resolution_minutes) == (CalendarKind.ALWAYS, 30, 600)
    await page.screenshot(path=screenshots / "sla-policies.png", full_page=True)

    await page.goto(f"/admin/sla-policies?org_id={town.id}")
    inherited = await page.locator("table.list tbody tr", has_text="心理").inner_text()
    assert f"沿用 {city.name}" in inherited and "首次响应 30 分钟" in inherited

    # Another city's union is not theirs; caseworkers have no such page at all.
    outside = await page.goto(f"/admin/sla-policies?org_id={(await demo_org('湛江市总工会')).id}")
    assert outside is not None and outside.status == 404
    session = await browser_as(stack, admin.username)
    foreign = await session.client.post(
        "/admin/sla-policies",
        data={
            "csrf_token": session.csrf,
            "org_id": str((await demo_org("湛江市总工会")).id),
            "request_type": "legal_aid",
            "calendar": "24x7",
            "first_response_minutes": "10",
            "resolution_minutes": "20",
        },
    )
    assert foreign.status_code == 404
    await session.client.aclose()
    caseworker = await make_staff(city)
    other = await context.browser.new_context(base_url=stack.base_url)  # type: ignore[union-attr]
    caseworker_page = await other.new_page()
    await log_in(caseworker_page, caseworker.username, STAFF_PASSWORD)
    assert await caseworker_page.locator("nav >> text=服务时限").count() == 0
    answer = await caseworker_page.goto("/admin/sla-policies")
    assert answer is not None and answer.status == 403
    await other.close()
