"""The admin pages in a real browser: what a caseworker does all day."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import BrowserContext

from models.accounts import StaffRole
from models.enrolment.tables import Enrolment
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD, bearer, eventually, unique
from tests.factories.enrolment import applicant, apply
from tests.factories.notifications import sandbox_messages
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff

pytestmark = pytest.mark.usefixtures("dispatcher")


async def test_approve_from_the_list_and_see_the_message_delivered(
    api: httpx.AsyncClient, sandbox, context: BrowserContext, screenshots: Path
) -> None:
    name = unique("骑手")[:10]
    _, openid, enrolment_id = await applicant(api, real_name=name)
    caseworker = await make_staff(await demo_org("中山市总工会"))
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.screenshot(path=screenshots / "home.png", full_page=True)
    assert await page.locator(".queue strong").first.inner_text() != ""
    await page.goto(f"/admin/enrolments?status=submitted&q={name}")
    await page.screenshot(path=screenshots / "enrolments.png", full_page=True)
    await page.check(f"input[name=ids][value='{enrolment_id}']")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click("button[data-batch-count]")
    await page.wait_for_selector("text=批量通过：成功 1 份")
    assert (await Enrolment.get(id=enrolment_id)).status == "approved"
    messages = await eventually(lambda: sandbox_messages(sandbox, openid), within=5)
    assert messages[0]["data"]["phrase1"]["value"] == "已通过"

    async def delivered_in_log() -> bool:
        await page.goto("/admin/notifications?status=delivered&event=enrolment.approved")
        return await page.locator("td", has_text="入会申请已通过").count() > 0

    assert await eventually(delivered_in_log, within=5)
    await page.screenshot(path=screenshots / "notifications.png", full_page=True)


async def test_reject_with_a_reason(api: httpx.AsyncClient, context: BrowserContext, screenshots: Path) -> None:
    token, _, enrolment_id = await applicant(api, consents=0)
    caseworker = await make_staff(await demo_org("中山市总工会"))
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.goto(f"/admin/enrolments/{enrolment_id}")
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click("form[action$='/reject'] button")  # no reason typed or picked: refused, nothing changes
    await page.wait_for_selector("text=驳回或退回时请填写原因")
    assert (await Enrolment.get(id=enrolment_id)).status == "submitted"
    await page.fill("form[action$='/reject'] textarea", "请到户籍所在地工会申请")
    await page.click("form[action$='/reject'] button")
    await page.wait_for_selector("text=已驳回，申请人将收到原因")
    await page.screenshot(path=screenshots / "enrolment-detail.png", full_page=True)
    assert await page.locator(".badge").first.inner_text() == "未通过"
    inbox = (await api.get("/api/v1/me/inbox", headers=bearer(token))).json()
    assert "请到户籍所在地工会申请" in inbox["items"][0]["body"]


async def test_export_what_the_filter_shows(api: httpx.AsyncClient, context: BrowserContext, tmp_path: Path) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    surname = unique("欧阳")[:6]
    for n in range(3):
        token, _ = await worker_with_profile(api, real_name=f"{surname}{n}")
        await apply(api, token, org.id)
    other, _ = await worker_with_profile(api, real_name="不相干的人")
    await apply(api, other, org.id)
    formula, _ = await worker_with_profile(api, real_name=f'=HYPERLINK("//x.cn","{surname}")')
    await apply(api, formula, org.id)
    caseworker = await make_staff(org)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.goto(f"/admin/enrolments?q={surname}")
    async with page.expect_download() as download_info:
        await page.click("text=导出 Excel")
    download = await download_info.value
    path = tmp_path / "export.xlsx"
    await download.save_as(path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "姓名", "身份证号", "手机号")
    names = sorted(row[1] for row in rows[1:])
    assert names == sorted([f"{surname}{n}" for n in range(3)] + [f'\'=HYPERLINK("//x.cn","{surname}")'])
    assert all("**********" in row[2] and "****" in row[3] for row in rows[1:])


async def test_a_zhongshan_caseworker_cannot_open_a_shenzhen_record(
    api: httpx.AsyncClient, context: BrowserContext
) -> None:
    token, _ = await worker_with_profile(api)
    shenzhen_enrolment = (await apply(api, token, (await demo_org("深圳市快递行业工会联合会")).id)).json()["id"]
    caseworker = await make_staff(await demo_org("中山市总工会"))
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    answer = await page.goto(f"/admin/enrolments/{shenzhen_enrolment}")
    assert answer is not None and answer.status == 404
    assert await page.locator("h1").inner_text() == "找不到这个页面"


async def test_a_script_in_a_description_shows_as_text(api: httpx.AsyncClient, context: BrowserContext) -> None:
    token, _ = await worker_with_profile(api)
    note = "<script>window.__pwned = 1</script><b>加粗</b>"
    enrolment_id = (await apply(api, token, (await demo_org("东区街道总工会")).id, note=note)).json()["id"]
    caseworker = await make_staff(await demo_org("中山市总工会"))
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.goto(f"/admin/enrolments/{enrolment_id}")
    assert note in await page.locator("dd.prewrap").first.inner_text()
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("dd b").count() == 0


async def test_main_pages_render_for_a_union_admin(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    admin = await make_staff(await demo_org("高明区总工会"), StaffRole.UNION_ADMIN)
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    for path, heading in [
        ("/admin/members", "会员"),
        ("/admin/orgs", "工会组织"),
        ("/admin/appeals", "职工诉求"),
        ("/admin/accounts", "工作人员账号"),
        ("/admin/audit", "审计日志"),
        ("/admin/broadcasts/new", "发送通知"),
        ("/admin/jobs", "后台任务失败项"),
    ]:
        answer = await page.goto(path)
        assert answer is not None and answer.status == 200, path
        assert (await page.locator("h1").inner_text()).startswith(heading)
        await page.screenshot(path=screenshots / f"{path.strip('/').replace('/', '-')}.png", full_page=True)
    await page.set_viewport_size({"width": 800, "height": 1100})
    await page.goto("/admin/")
    await page.screenshot(path=screenshots / "home-tablet.png", full_page=True)


async def test_temporary_password_must_be_changed(api: httpx.AsyncClient, context: BrowserContext) -> None:
    admin = await make_staff(await demo_org("湛江市总工会"), StaffRole.UNION_ADMIN)
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.goto("/admin/accounts")
    username = unique("cw")
    await page.fill("form[action='/admin/accounts'] input[name=username]", username)
    await page.fill("form[action='/admin/accounts'] input[name=display_name]", "新同事")
    await page.click("text=创建（生成临时密码）")
    temporary = await page.locator(".notice strong.mono").inner_text()
    await page.click("text=退出")
    await log_in(page, username, temporary)
    assert page.url.endswith("/admin/password")
    await page.goto("/admin/enrolments")
    assert page.url.endswith("/admin/password")
    await page.fill("input[name=old_password]", temporary)
    await page.fill("input[name=new_password]", "a-brand-new-password-1")
    await page.fill("input[name=repeat_password]", "a-brand-new-password-1")
    await page.click("main button[type=submit]")
    await page.wait_for_selector("text=密码已修改")
