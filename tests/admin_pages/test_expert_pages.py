"""劳模工匠库 in Chromium: a union admin puts an expert on the roster and sees the binding code
once; the roster filters; a caseworker reads it without the form."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import BrowserContext

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.experts.tables import Expert
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD, bearer, login_worker, unique
from tests.factories.unions import demo_org, make_org, make_staff


async def test_a_union_admin_adds_an_expert_and_hands_out_the_code(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    org = await make_org(await demo_org("高明区总工会"))
    admin = await make_staff(org, StaffRole.UNION_ADMIN)
    name = unique("专家")
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.click("nav >> text=劳模工匠库")
    await page.click("text=新增专家")
    await page.fill("input[name=name]", name)
    await page.check("input[name=titles][value=south_guangdong_craftsman]")
    await page.check("input[name=industries][value=new_materials]")
    await page.check("input[name=skills][value=factory_audit]")
    await page.check("input[name=skills][value=pdca]")
    await page.fill("input[name=years]", "-1")
    await page.fill("input[name=patents_us_invention]", "3")
    await page.fill("input[name=patents_cn_invention]", "１２")  # full-width, as an input method types it
    await page.fill("input[name=max_active_orders]", "3")
    await page.fill("textarea[name=bio]", "新材料行业从业二十九年。")
    await page.click("button:has-text('加入劳模工匠库并生成邀请码')")
    # A refused form comes back as it was typed, with the reason.
    assert "从业年限须为非负整数" in await page.locator("[role=alert]").inner_text()
    assert await page.input_value("input[name=name]") == name
    assert await page.is_checked("input[name=skills][value=pdca]")
    assert not await Expert.exists(name=name)
    await page.fill("input[name=years]", "29")
    await page.click("button:has-text('加入劳模工匠库并生成邀请码')")
    code = (await page.locator("[data-invite-code]").inner_text()).strip()
    assert len(code) == 8
    await page.screenshot(path=screenshots / "expert-created.png", full_page=True)
    expert = await Expert.get(name=name)
    assert expert.years == 29 and expert.patents_cn_invention == 12 and expert.max_active_orders == 3
    assert expert.skills == ["factory_audit", "pdca"] and expert.regions == [org.id]

    # The code is shown once: the expert's page does not show it again.
    await page.goto(f"/admin/experts/{expert.id}")
    assert await page.locator("[data-invite-code]").count() == 0
    # Edit, then re-issue: the old code stops working, the new one binds.
    await page.fill("input[name=years]", "30")
    await page.click("button:has-text('保存')")
    await page.wait_for_selector("text=已保存")
    assert (await Expert.get(id=expert.id)).years == 30
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("button:has-text('重新生成邀请码')")
    fresh = (await page.locator("[data-invite-code]").inner_text()).strip()
    assert fresh != code
    token, _ = await login_worker(api)
    old = await api.post("/api/v1/expert/claim", json={"invite_code": code}, headers=bearer(token))
    assert old.status_code == 404
    new = await api.post("/api/v1/expert/claim", json={"invite_code": fresh}, headers=bearer(token))
    assert new.status_code == 200
    logged = await AuditEntry.filter(object_type="expert", object_id=str(expert.id)).values_list("action", flat=True)
    assert sorted(logged) == ["expert.create", "expert.invite", "expert.update"]

    # The roster, filtered by skill.
    await page.goto(f"/admin/experts?org_id={org.id}&skill=pdca")
    row = page.locator("table.list tbody tr", has_text=name)
    assert "已绑定" in await row.inner_text() and "30 年" in await row.inner_text()
    await page.goto(f"/admin/experts?org_id={org.id}&skill=welding")
    assert await page.locator("table.list tbody tr", has_text=name).count() == 0
    await page.screenshot(path=screenshots / "experts.png", full_page=True)

    # A caseworker reads the roster, without the form or the way to add one.
    caseworker = await make_staff(org)
    reader = await context.browser.new_context(base_url=page.url.split("/admin")[0])  # type: ignore[union-attr]
    reader_page = await reader.new_page()
    await log_in(reader_page, caseworker.username, STAFF_PASSWORD)
    await reader_page.goto(f"/admin/experts/{expert.id}")
    assert name in await reader_page.locator("h1").inner_text()
    assert await reader_page.locator(f"form[action='/admin/experts/{expert.id}']").count() == 0
    answer = await reader_page.goto("/admin/experts/new")
    assert answer is not None and answer.status == 403
    await reader.close()
