"""Acting on one case in Chromium: approve and reject that ask first and name the applicant, the
keyboard, preset reasons (with and without JavaScript), a reason kept across an expired session,
and the history naming people as colleagues know them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, Dialog, Page

from models.accounts import AuthSession, StaffAccount, StaffRole
from models.enrolment.tables import Enrolment
from models.orgs import Org
from models.scope import StaffScope
from models.unions import reasons
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD, TEST_ACTOR, eventually, unique
from tests.factories.enrolment import apply
from tests.factories.pages import page_session
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff
from tests.factories.warm_requests import help_request

REJECT_BOX = "form[action$='/reject'] textarea"


async def _application(api: httpx.AsyncClient, name: str) -> tuple[int, int]:
    """A fresh union under 中山 with an application from `name`; (org id, enrolment id)."""
    org = await make_org(await demo_org("中山市总工会"))
    token, _ = await worker_with_profile(api, real_name=name)
    return org.id, (await apply(api, token, org.id)).json()["id"]


async def _caseworker_page(context: BrowserContext, org_id: int, display_name: str = "") -> tuple[Page, StaffAccount]:
    caseworker = await make_staff(await Org.get(id=org_id))
    if display_name:
        await StaffAccount.filter(id=caseworker.id).update(display_name=display_name)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    return page, caseworker


async def test_a_reason_typed_before_the_session_expired_comes_back_after_login(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    name = unique("赵")[:8]
    org_id, enrolment_id = await _application(api, name)
    page, caseworker = await _caseworker_page(context, org_id)
    await page.goto(f"/admin/enrolments/{enrolment_id}")
    await page.fill(REJECT_BOX, "请到户籍所在地的镇街工会申请\n并附上居住证")
    await AuthSession.filter(staff_id=caseworker.id).delete()  # the session ends on the server
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click("form[action$='/reject'] button")
    await page.wait_for_selector("text=登录已过期")
    await page.screenshot(path=screenshots / "login-after-expiry.png", full_page=True)
    assert await page.input_value("input[name=next]") == f"/admin/enrolments/{enrolment_id}"
    # A mistyped password keeps what was typed, too.
    await page.fill("input[name=username]", caseworker.username)
    await page.fill("input[name=password]", "wrong-password-1")
    await page.click("main button[type=submit]")
    await page.wait_for_selector("main .error")
    await page.fill("input[name=password]", STAFF_PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(f"**/admin/enrolments/{enrolment_id}?kept=1")
    assert await page.input_value(REJECT_BOX) == "请到户籍所在地的镇街工会申请\n并附上居住证"
    assert await page.input_value("form[action$='/return'] textarea") == ""
    assert "已恢复您在登录过期前填写的内容" in await page.inner_text("main")
    # Nothing was replayed: the caseworker sees the form and decides.
    assert (await Enrolment.get(id=enrolment_id)).status == "submitted"
    await page.screenshot(path=screenshots / "enrolment-kept-reason.png", full_page=True)
    await page.click("form[action$='/reject'] button")
    await page.wait_for_selector("text=已驳回，申请人将收到原因")
    # (a browser sends a text box's line breaks as CRLF)
    stored = (await Enrolment.get(id=enrolment_id)).reason
    assert stored.replace("\r\n", "\n") == "请到户籍所在地的镇街工会申请\n并附上居住证"


async def test_keyboard_confirmations_and_names_on_an_application(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    name = unique("钱")[:8]
    org_id, enrolment_id = await _application(api, name)
    page, caseworker = await _caseworker_page(context, org_id, display_name="李审核")
    await page.goto(f"/admin/enrolments/{enrolment_id}")
    approve, reject = page.locator("button.approve"), page.locator("button.reject")
    # Approve and reject differ in more than colour.
    approve_style = await approve.evaluate("b => getComputedStyle(b).backgroundColor")
    reject_style = await reject.evaluate("b => getComputedStyle(b).backgroundColor")
    assert approve_style != reject_style and reject_style == "rgb(255, 255, 255)"
    # "?" shows the shortcuts, with this page's actions.
    help_box = page.locator("details#shortcuts")
    await page.keyboard.press("?")
    assert await help_box.get_attribute("open") is not None
    listed = await help_box.inner_text()
    assert "通过" in listed and "驳回" in listed and "退回补充" in listed
    await page.screenshot(path=screenshots / "enrolment-shortcuts.png", full_page=True)
    await page.keyboard.press("?")
    assert await help_box.get_attribute("open") is None
    # "r" with no reason yet puts the cursor in the reason box; keys typed there are text.
    await page.keyboard.press("r")
    assert await page.evaluate("document.activeElement.closest('form').action.endsWith('/reject')")
    await page.keyboard.type("ar")
    assert await page.input_value(REJECT_BOX) == "ar"
    assert (await Enrolment.get(id=enrolment_id)).status == "submitted"
    await page.fill(REJECT_BOX, "")
    await page.evaluate("document.activeElement.blur()")
    # "a" approves, through a confirmation naming the applicant: refused once, then accepted.
    asked: list[str] = []

    async def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await (dialog.dismiss() if len(asked) == 1 else dialog.accept())

    page.on("dialog", answer)
    await page.keyboard.press("a")

    async def asked_once() -> list[str]:
        return asked

    await eventually(asked_once, within=5)
    assert len(asked) == 1 and name in asked[0] and "通过" in asked[0]
    assert (await Enrolment.get(id=enrolment_id)).status == "submitted"
    await page.keyboard.press("a")
    await page.wait_for_selector("text=已通过，会员号已生成")
    assert (await Enrolment.get(id=enrolment_id)).status == "approved"
    history = await page.inner_text("ol.history")
    assert "李审核 · 已通过" in history and caseworker.username not in history
    assert f"{name} · 待审核" in history  # the applicant by name, not "申请人"


async def test_j_and_k_follow_the_next_and_previous_links(context: BrowserContext) -> None:
    parent = await make_org(await demo_org("中山市总工会"), name=unique("翻页工会"))
    for n in range(21):
        await make_org(parent, name=f"{parent.name}-{n:02d}")
    page, _ = await _caseworker_page(context, parent.id)
    await page.goto(f"/admin/orgs?parent_id={parent.id}")
    await page.keyboard.press("j")
    await page.wait_for_url("**page=2**")
    assert "第 2 / 2 页" in await page.inner_text(".pager")
    await page.keyboard.press("k")
    await page.wait_for_url("**page=1**")
    # Typing into a field is never a shortcut.
    await page.fill("input[name=q]", "")
    await page.press("input[name=q]", "j")
    assert "page=1" in page.url and await page.input_value("input[name=q]") == "j"


async def test_preset_reasons_with_and_without_javascript(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    org_id, first = await _application(api, unique("孙")[:8])
    token, _ = await worker_with_profile(api)
    second = (await apply(api, token, org_id)).json()["id"]
    everything = StaffScope(org_id=org_id, sees_everything=True)
    await reasons.add(everything, org_id, "reject", "不在本会服务范围内", TEST_ACTOR)
    await reasons.add(everything, org_id, "reject", "信息不实", TEST_ACTOR)
    # With JavaScript: picking a reason fills the box, which stays editable.
    page, _ = await _caseworker_page(context, org_id)
    await page.goto(f"/admin/enrolments/{first}")
    await page.select_option("select[name=preset_reason]", "信息不实")
    assert await page.input_value(REJECT_BOX) == "信息不实"
    await page.fill(REJECT_BOX, "信息不实：身份证号与姓名不符")
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click("form[action$='/reject'] button")
    await page.wait_for_selector("text=已驳回")
    assert (await Enrolment.get(id=first)).reason == "信息不实：身份证号与姓名不符"
    # Without JavaScript: the picked reason is used when the box is left empty.
    plain = await context.browser.new_context(  # type: ignore[union-attr]
        base_url=page.url.split("/admin")[0], java_script_enabled=False, viewport={"width": 1366, "height": 768}
    )
    bare = await plain.new_page()
    await log_in(bare, (await make_staff(await Org.get(id=org_id))).username, STAFF_PASSWORD)
    await bare.goto(f"/admin/enrolments/{second}")
    await bare.select_option("select[name=preset_reason]", "不在本会服务范围内")
    await bare.click("form[action$='/reject'] button")
    await bare.wait_for_selector("text=已驳回")
    await bare.screenshot(path=screenshots / "enrolment-rejected-without-js.png", full_page=True)
    assert (await Enrolment.get(id=second)).reason == "不在本会服务范围内"
    await plain.close()


async def test_a_union_admin_keeps_the_preset_reasons(context: BrowserContext, screenshots: Path) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    admin = await make_staff(org, StaffRole.UNION_ADMIN)
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.goto(f"/admin/reasons?org_id={org.id}")
    # Nothing of its own yet: 中山's reject list is inherited and shown as such.
    reject = page.locator("#kind-reject")
    assert "沿用 中山市总工会 的" in await reject.inner_text()
    for text in ("第一条", "第二条"):
        await reject.locator("input[name=text]").last.fill(text)
        await reject.locator("button", has_text="添加").click()
        await page.wait_for_selector("text=已添加")
    await reject.locator("button[aria-label='上移：第二条']").click()
    await page.wait_for_selector("text=已上移")
    assert await reasons.reasons_for(org.id, reasons.ReasonKind.REJECT) == ["第二条", "第一条"]
    await page.screenshot(path=screenshots / "preset-reasons.png", full_page=True)
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.locator("#kind-reject li").nth(1).locator("button", has_text="删除").click()
    await page.wait_for_selector("text=已删除")
    assert await reasons.reasons_for(org.id, reasons.ReasonKind.REJECT) == ["第二条"]


async def test_only_forms_from_our_own_pages_are_kept_across_login(stack) -> None:
    form = {"reason": "另一个网站写的原因", "csrf_token": "x"}
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        ours = await client.post("/admin/enrolments/7/reject", data=form, headers={"Origin": stack.base_url})
        theirs = await client.post("/admin/enrolments/7/reject", data=form, headers={"Origin": "http://evil.example"})
        bare = await client.post("/admin/enrolments/7/reject", data=form)
    assert ours.status_code == theirs.status_code == bare.status_code == 401
    assert 'name="kept.reason" value="另一个网站写的原因"' in ours.text
    assert 'name="kept_action" value="/admin/enrolments/7/reject"' in ours.text
    assert 'name="next" value="/admin/enrolments/7"' in ours.text  # the case's page, not the POST address
    for refused in (theirs, bare):
        assert "kept." not in refused.text and 'name="next" value="/admin/enrolments/7"' in refused.text
    assert 'name="kept.csrf_token"' not in ours.text


async def test_a_help_requests_history_and_messages_name_the_caseworker(stack, api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    _, created = await help_request(api, org.id)
    caseworker = await make_staff(org)
    await StaffAccount.filter(id=caseworker.id).update(display_name="周办理")
    session = await page_session(stack.base_url, caseworker)
    try:
        assert (await session.post(f"/admin/warm-requests/{created['id']}/claim")).status_code == 302
        await session.post(f"/admin/warm-requests/{created['id']}/reply", content="正在核实")
        page = (await session.client.get(f"/admin/warm-requests/{created['id']}")).text
    finally:
        await session.close()
    assert "周办理：" in page.split("往来消息")[1].split("</ol>")[0]
    history = page.split("办理记录")[1]
    assert "周办理 · " in history and caseworker.username not in page
    assert "求助人 · " in history  # the worker, whose name this page does not show
