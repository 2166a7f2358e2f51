"""Rest stations in Chromium: a union admin adds one, finds it by union and amenity with its
coordinates, changes its hours, prints its QR code and deactivates it; a caseworker reads only."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import BrowserContext

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.stations.tables import Station
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD, unique
from tests.factories.stations import lonely_spot, make_station
from tests.factories.unions import demo_org, make_org, make_staff


async def test_a_union_admin_keeps_a_station(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    town = await make_org(org)
    admin = await make_staff(org, StaffRole.UNION_ADMIN)
    lat, lng = lonely_spot()
    name = unique("东区驿站")
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.click("nav >> text=驿站")
    await page.click("text=新增驿站")
    await page.fill("input[name=name]", name)
    await page.select_option("select[name=org_id]", str(town.id))
    await page.fill("input[name=address]", "中山市东区博爱六路 28 号")
    await page.fill("input[name=lat]", "abc")
    await page.fill("input[name=lng]", str(lng))
    await page.fill("input[name=open]", "08:00")
    await page.fill("input[name=close]", "20:00")
    await page.check("input[name=amenities][value=charging]")
    await page.click("main button[type=submit].primary")
    await page.wait_for_selector("p.error >> text=纬度")
    assert not await Station.exists(name=name)  # refused, nothing stored; the form keeps what was typed
    assert await page.input_value("input[name=name]") == name
    await page.fill("input[name=lat]", str(lat))
    await page.click("main button[type=submit].primary")
    await page.wait_for_selector("text=已保存")
    station = await Station.get(name=name)
    assert station.org_id == town.id and station.hours == {"open": "08:00", "close": "20:00"}
    assert station.amenities == ["water", "rest", "charging"]  # the new form's defaults, plus charging

    # Found by union and amenity, with its coordinates; not under an amenity it lacks.
    other = await make_station(town, lat + 0.01, lng, amenities=["water"])
    await page.goto(f"/admin/stations?org_id={org.id}&amenity=charging")
    listing = await page.inner_text("table.list")
    assert name in listing and other.name not in listing and f"{lat:.6f}, {lng:.6f}" in listing
    await page.screenshot(path=screenshots / "stations.png", full_page=True)
    await page.goto(f"/admin/stations?org_id={org.id}&amenity=first_aid")
    assert name not in await page.inner_text("table.list")

    # Open round the clock now.
    await page.goto(f"/admin/stations/{station.id}")
    await page.check("input[name=hours][value=always]")
    await page.fill("input[name=open]", "")
    await page.fill("input[name=close]", "")
    await page.click("main button[type=submit].primary")
    await page.wait_for_selector("text=已保存")
    assert (await Station.get(id=station.id)).hours == {"always": True}

    # The printable code, its handing-out audited.
    await page.click("text=打印签到二维码")
    await page.wait_for_selector(".qr svg")
    await page.screenshot(path=screenshots / "station-qr.png", full_page=True)
    assert await AuditEntry.exists(action="station.code_issued", object_id=str(station.id))

    await page.goto(f"/admin/stations/{station.id}")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("text=停用驿站")
    await page.wait_for_selector("text=驿站已停用")
    assert (await Station.get(id=station.id)).active is False
    assert await AuditEntry.exists(action="station.deactivate", object_id=str(station.id))


async def test_a_caseworker_reads_stations_but_cannot_change_them(
    api: httpx.AsyncClient, context: BrowserContext
) -> None:
    org = await make_org(await demo_org("深圳市总工会"))
    station = await make_station(org, *lonely_spot())
    caseworker = await make_staff(org)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.goto("/admin/stations")
    assert station.name in await page.inner_text("table.list")
    assert await page.locator("text=新增驿站").count() == 0
    await page.goto(f"/admin/stations/{station.id}")
    assert await page.locator("fieldset[disabled]").count() == 1
    assert await page.locator("text=打印签到二维码").count() == 0
    answer = await page.goto(f"/admin/stations/{station.id}/qr")
    assert answer is not None and answer.status == 403
