"""The report page and the engagement pages in Chromium: figures by area before and after, the
export, and recording an engagement and its training through the forms."""

from __future__ import annotations

from pathlib import Path

import httpx
from openpyxl import load_workbook
from playwright.async_api import BrowserContext

from models.accounts import StaffRole
from models.engagements.tables import Engagement, Training
from models.service_orders.tables import OrderStatus
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD, bearer
from tests.factories.report import advance, order_with_expert
from tests.factories.unions import demo_org, make_staff
from tests.service_orders.test_report import sample_items


async def test_a_caseworker_reads_the_report_by_area_and_exports_it(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path, tmp_path: Path
) -> None:
    world = await order_with_expert(api)
    path = f"/api/v1/service-orders/{world.order_id}/report"
    items = (await api.put(path, json={"items": sample_items(24)}, headers=bearer(world.expert_token))).json()["items"]
    await advance(api, world, OrderStatus.DELIVERED)
    first = items[0]
    await api.patch(
        f"{path}/items/{first['id']}", json={"status": "done", "current_score": 10}, headers=bearer(world.contact_token)
    )
    report = (await api.get(path, headers=bearer(world.contact_token))).json()
    figures = report["summary"][first["area"]]

    caseworker = await make_staff(world.org)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.goto(f"/admin/service-orders/{world.order_id}")
    await page.click("text=查看整改报告")
    await page.wait_for_selector("h1 >> text=整改报告")
    await page.screenshot(path=screenshots / "service-order-report.png", full_page=True)
    row = page.locator(f"#by-area tr[data-area='{first['area']}']")
    cells = await row.locator("td").all_inner_texts()
    assert cells[0] == "6"
    assert cells[1] == f"{figures['average_score']:.2f}"
    assert cells[2].startswith(f"{figures['average_current']:.2f}") and "+" in cells[2]
    assert cells[5] == "1 / 6"
    assert await page.locator("table.report-items tbody tr").count() == 24
    assert await page.locator("text=来料检验记录不完整").count() == 1

    async with page.expect_download() as download_info:
        await page.click("text=导出 Excel")
    saved = tmp_path / "report.xlsx"
    await (await download_info.value).save_as(saved)
    rows = list(load_workbook(saved)["整改意见"].iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == [i["title"] for i in items] and rows[0][-1] == "已完成"

    outsider = await make_staff(await demo_org("湛江市总工会"))
    other = await context.browser.new_context(base_url=page.url.split("/admin")[0])  # type: ignore[union-attr]
    other_page = await other.new_page()
    await log_in(other_page, outsider.username, STAFF_PASSWORD)
    answer = await other_page.goto(f"/admin/service-orders/{world.order_id}/report")
    assert answer is not None and answer.status == 404
    await other.close()


async def test_a_union_admin_records_an_engagement_and_a_training(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    world = await order_with_expert(api, OrderStatus.CLOSED)
    admin = await make_staff(world.org, StaffRole.UNION_ADMIN)
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.goto("/admin/engagements")
    form = page.locator("#new-engagement")
    await form.locator("select[name=enterprise_id]").select_option(str(world.enterprise_id))
    await form.locator("select[name=expert_id]").select_option(str(world.expert_id))
    await form.locator("input[name=role]").fill("首席质量官")
    await form.locator("input[name=starts_on]").fill("2024-04-30")
    await form.locator("input[name=order_id]").fill(str(world.order_id))
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector("h1 >> text=首席质量官")
    engagement = await Engagement.get(enterprise_id=world.enterprise_id)
    assert engagement.order_id == world.order_id and engagement.ends_on is None

    training = page.locator("#new-training")
    await training.locator("input[name=topic]").fill("精益生产与质量追溯")
    await training.locator("input[name=held_on]").fill("2024-03-10")  # before the engagement began
    await training.locator("button[type=submit]").click()
    await page.wait_for_selector("text=培训日期不在聘任期内")
    await training.locator("input[name=topic]").fill("精益生产与质量追溯")
    await training.locator("input[name=held_on]").fill("2025-03-10")
    await training.locator("input[name=attendees]").fill("36")
    await training.locator("button[type=submit]").click()
    await page.wait_for_selector("#trainings >> text=精益生产与质量追溯")
    await page.screenshot(path=screenshots / "engagement-detail.png", full_page=True)
    (stored,) = await Training.filter(engagement_id=engagement.id)
    assert (stored.held_on.isoformat(), stored.attendees) == ("2025-03-10", 36)
    assert "2025-03-10" in await page.locator("#trainings").inner_text()

    # A caseworker reads the page, without the forms.
    caseworker = await make_staff(world.org)
    other = await context.browser.new_context(base_url=page.url.split("/admin")[0])  # type: ignore[union-attr]
    other_page = await other.new_page()
    await log_in(other_page, caseworker.username, STAFF_PASSWORD)
    await other_page.goto(f"/admin/engagements?enterprise_id={world.enterprise_id}")
    await other_page.click(f"text=#{engagement.id}")
    assert await other_page.locator("#trainings >> text=精益生产与质量追溯").count() == 1
    assert await other_page.locator("#new-training").count() == 0
    await other.close()
