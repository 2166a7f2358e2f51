"""The desk in Chromium: alerts on the home page linking to their case, read on the alerts page;
satisfaction on the home page; a union admin keeping a union's service area and platforms."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import BrowserContext

from models.accounts import StaffRole
from models.kernel.ratings import Served, rate
from models.notifications.staff_alerts import alert_union
from models.notifications.tables import StaffAlert
from models.orgs import OrgType
from models.unions.tables import ServedPlatform, ServiceArea
from server.clock import now
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD
from tests.factories.unions import demo_org, make_org, make_staff
from tests.factories.warm_requests import help_request


async def test_alerts_and_satisfaction_on_the_desk(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    _, created = await help_request(api, org.id)
    moment = now()
    breach = await alert_union(
        org.id,
        "warm_request.breached",
        "warm_request",
        created["id"],
        "法律援助求助超时，已上报",
        "首次响应超时",
        moment,
    )
    await alert_union(org.id, "service_order.offer_declined", "service_order", 42, "专家拒绝了派单", "", moment)
    for case_id, kind, score in ((created["id"], "warm_request", 4), (created["id"] + 2**40, "station_visit", 5)):
        await rate(
            case_type=kind,
            case_id=case_id,
            rater_user_id=1,
            service_kind=kind,
            served=Served("", None),
            org_id=org.id,
            score=score,
            comment="",
            tags=[],
            at=moment,
        )
    caseworker = await make_staff(org)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.goto("/admin/")
    alerts = page.locator("section[aria-label=提醒]")
    assert await alerts.locator(f"a[href='/admin/warm-requests/{created['id']}']").count() == 1
    assert await alerts.locator("a[href='/admin/service-orders/42']").count() == 1
    assert "2" in await page.locator("a.queue[href='/admin/alerts']").inner_text()
    satisfaction = await page.inner_text("section[aria-label=服务满意度]")
    assert "暖心服务" in satisfaction and "驿站服务" in satisfaction and moment.strftime("%Y-%m") in satisfaction
    assert "4.50" in await page.inner_text("section.figures")
    await page.screenshot(path=screenshots / "desk-alerts.png", full_page=True)

    await alerts.locator(f"a[href='/admin/warm-requests/{created['id']}']").click()
    await page.wait_for_selector(f"h1 >> text=#{created['id']}")
    await page.goto("/admin/alerts")
    row = page.locator("table.list tbody tr", has_text="法律援助求助超时")
    await row.locator("button").click()
    await page.wait_for_load_state()
    assert "法律援助求助超时" not in await page.inner_text("table.list")
    assert (await StaffAlert.get(id=breach.id)).read_by_id == caseworker.id


async def test_a_union_admin_keeps_a_unions_area_and_platforms(api: httpx.AsyncClient, context: BrowserContext) -> None:
    city = await make_org(await demo_org("深圳市总工会"))
    town = await make_org(city, org_type=OrgType.TOWN)
    admin = await make_staff(city, StaffRole.UNION_ADMIN)
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.goto(f"/admin/orgs?parent_id={city.id}")
    await page.locator("table.list tbody tr", has_text=town.name).locator("text=服务范围").click()
    await page.fill("input[name=lat]", "22.5440")
    await page.fill("input[name=lng]", "114.0850")
    await page.fill("input[name=radius_m]", "80000")
    await page.check("input[name=platforms][value=meituan]")
    await page.click("main button[type=submit].primary")
    await page.wait_for_selector("p.error >> text=服务半径")
    assert not await ServiceArea.exists(org_id=town.id)
    await page.fill("input[name=lat]", "22.5440")
    await page.fill("input[name=lng]", "114.0850")
    await page.fill("input[name=radius_m]", "1500")
    await page.check("input[name=platforms][value=meituan]")
    await page.click("main button[type=submit].primary")
    await page.wait_for_selector("text=已保存")
    area = await ServiceArea.get(org_id=town.id)
    assert (area.lat, area.lng, area.radius_m) == (22.544, 114.085, 1500)
    assert await ServedPlatform.filter(org_id=town.id).values_list("platform", flat=True) == ["meituan"]
    # Cleared: no area, no platform.
    for name in ("lat", "lng", "radius_m"):
        await page.fill(f"input[name={name}]", "")
    await page.uncheck("input[name=platforms][value=meituan]")
    await page.click("main button[type=submit].primary")
    await page.wait_for_selector("text=已保存")
    assert not await ServiceArea.exists(org_id=town.id)
    assert not await ServedPlatform.exists(org_id=town.id)
