"""Readable records, in Chromium: the audit log in Chinese with links, names and before → after;
the delivery log with workers' names and WeChat's outcomes explained, resend only where it helps;
past broadcasts and the preview's recipient count; every error page with the top bar."""

from __future__ import annotations

import io

import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import BrowserContext

from models.accounts import StaffAccount, StaffRole
from models.audit import Actor, record
from models.notifications.tables import Broadcast, DeliveryStatus, Notification, NotificationDelivery
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD, bearer, eventually, login_staff, unique
from tests.factories.enrolment import applicant, apply
from tests.factories.profiles import worker_with_profile
from tests.factories.stations import lonely_spot, make_station
from tests.factories.unions import demo_org, make_org, make_staff

pytestmark = pytest.mark.usefixtures("dispatcher")


async def named_staff(org, role: StaffRole = StaffRole.UNION_ADMIN) -> tuple[StaffAccount, str]:  # type: ignore[no-untyped-def]
    staff = await make_staff(org, role)
    name = unique("王")[:8]
    await StaffAccount.filter(id=staff.id).update(display_name=name)
    return staff, name


async def test_the_audit_log_reads_in_chinese_with_links_names_and_changes(
    api: httpx.AsyncClient, context: BrowserContext
) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    admin, admin_name = await named_staff(org)
    token = await login_staff(api, admin.username)
    worker, _ = await worker_with_profile(api, real_name="韩梅梅")
    enrolment_id = (await apply(api, worker, org.id)).json()["id"]
    approved = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(token))
    assert approved.status_code == 200, approved.text
    station = await make_station(org, *lonely_spot())
    actor = Actor("staff", admin.id, admin.username)
    for n in range(21):  # more than a page of one kind, each with text a browser must not see escaped
        await record(
            actor,
            "station.update",
            object_type="station",
            object_id=station.id,
            org_id=org.id,
            before={"name": f"<旧>驿站{n}", "active": True},
            after={"name": f"<新>驿站{n}", "active": False},
        )
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)

    await page.goto(f"/admin/audit?actor={admin_name}&action=enrolment.approve")
    row = page.locator("table.list tbody tr").first
    text = await row.inner_text()
    assert admin_name in text and "工作人员" in text and "通过入会申请" in text
    assert "enrolment.approve" not in text and "状态：待审核 → 已通过" in text
    assert await row.locator(f"a[href='/admin/enrolments/{enrolment_id}']").inner_text() == f"入会申请 {enrolment_id}"

    await page.goto(f"/admin/audit?actor={admin_name}")
    await page.select_option("select[name=action]", "station.update")
    await page.click("form.filters button[type=submit]")
    assert "共 21 条" in await page.locator("nav.pager").inner_text()
    first = await page.locator("table.list tbody tr").first.inner_text()
    assert "修改驿站" in first and "名称：<旧>驿站20 → <新>驿站20" in first and "启用：是 → 否" in first
    assert "\\u003c" not in await page.content()
    await page.click("nav.pager >> text=下一页")
    assert "page=2" in page.url and "action=station.update" in page.url
    assert await page.locator("select[name=action]").input_value() == "station.update"
    assert await page.locator("input[name=actor]").input_value() == admin_name
    assert "<旧>驿站0" in await page.locator("table.list tbody").inner_text()

    # The export of what the filter shows reads the same, in the shared sheet's shape.
    exported = await page.request.get(f"/admin/audit/export?actor={admin_name}&action=station.update")
    sheet = load_workbook(io.BytesIO(await exported.body())).active
    assert sheet.freeze_panes == "A2" and sheet.max_row == 22
    assert (
        sheet["D2"].value == admin_name
        and sheet["E2"].value == "修改驿站"
        and sheet["F2"].value == f"驿站 {station.id}"
    )
    assert sheet.column_dimensions["G"].width > sheet.column_dimensions["A"].width


async def test_the_delivery_log_names_workers_and_explains_wechat(
    api: httpx.AsyncClient, context: BrowserContext
) -> None:
    name = unique("赵")[:8]
    _, _, no_consent = await applicant(api, consents=0, real_name=name)
    _, _, refused = await applicant(api)
    caseworker = await make_staff(await demo_org("中山市总工会"))
    token = await login_staff(api, caseworker.username)
    for enrolment_id in (no_consent, refused):
        answer = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(token))
        assert answer.status_code == 200

    async def delivery(enrolment_id: int, status: DeliveryStatus) -> NotificationDelivery | None:
        notification = await Notification.get(
            object_type="enrolment", object_id=str(enrolment_id), event="enrolment.approved"
        )
        return await NotificationDelivery.get_or_none(notification_id=notification.id, status=status)

    skipped = await eventually(lambda: delivery(no_consent, DeliveryStatus.SKIPPED))
    sent = await eventually(lambda: delivery(refused, DeliveryStatus.DELIVERED))
    # WeChat's final word on it, as an errcode the log has never seen and one it knows.
    await NotificationDelivery.filter(id=sent.id).update(
        status=DeliveryStatus.FAILED, last_errcode=48001, last_error="api unauthorized rid: 6a1b"
    )
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.goto("/admin/notifications?event=enrolment.approved")
    row = page.locator("table.list tbody tr", has=page.locator(f"td:text-is('{skipped.id}')"))
    text = await row.inner_text()
    assert name in text and "用户 " not in text
    assert "职工未授权接收这类订阅消息" in text and "no_consent" not in text
    assert await row.locator("button", has_text="重发").count() == 0
    row = page.locator("table.list tbody tr", has=page.locator(f"td:text-is('{sent.id}')"))
    text = await row.inner_text()
    assert "微信返回了未知错误（错误码 48001：api unauthorized rid: 6a1b）" in text
    await row.locator("button", has_text="重发").click()
    await page.wait_for_selector("text=已重新加入发送队列")
    # The API refuses what the page does not offer, and says why in Chinese.
    useless = await api.post(f"/api/v1/admin/notifications/{skipped.id}/resend", headers=bearer(token))
    assert useless.status_code == 409 and useless.json()["error"]["code"] == "notification.resend_useless"
    assert "职工未授权" in useless.json()["error"]["message"]
    assert (await NotificationDelivery.get(id=skipped.id)).status == DeliveryStatus.SKIPPED


async def test_broadcasts_are_listed_and_the_preview_counts_recipients(
    api: httpx.AsyncClient, context: BrowserContext
) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    admin = await make_staff(org, StaffRole.UNION_ADMIN)
    token = await login_staff(api, admin.username)
    for _ in range(2):
        worker, _ = await worker_with_profile(api)
        enrolment_id = (await apply(api, worker, org.id)).json()["id"]
        await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(token))
    page = await context.new_page()
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.goto("/admin/broadcasts/new")
    await page.select_option("select[name=org_id]", str(org.id))
    title = unique("通知")[:20]
    await page.fill("input[name=title]", title)
    await page.fill("textarea[name=body]", "本周六举办职工运动会")
    await page.click("text=预览")
    assert await page.locator("[data-field=preview-count]").inner_text() == "共 2 人"
    await page.click("text=确认发送")
    await page.wait_for_selector("h1 >> text=" + title)
    broadcast = await Broadcast.get(title=title)
    assert "职工未授权接收订阅消息" in await page.locator("main").inner_text()
    await page.goto("/admin/broadcasts")
    await page.click(f"a:text-is('{title}')")
    assert page.url.endswith(f"/admin/broadcasts/{broadcast.id}")
    await page.wait_for_selector("[data-field=status] >> text=已全部排入发送")


async def test_error_pages_have_the_top_bar_and_the_role(api: httpx.AsyncClient, context: BrowserContext) -> None:
    caseworker, name = await named_staff(await demo_org("中山市总工会"), StaffRole.CASEWORKER)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    for path, status, heading in (
        ("/admin/audit", 403, "无权访问"),
        ("/admin/no-such-page", 404, "找不到这个页面"),
        ("/admin/enrolments/1/approve", 405, "无法完成此请求"),
    ):
        answer = await page.goto(path)
        assert answer is not None and answer.status == status, path
        assert await page.locator("h1").inner_text() == heading
        assert await page.locator("header.topbar .who span").inner_text() == f"{name} · 工会工作人员", path
        await page.click("header.topbar >> text=退出")  # the bar's own form works from an error page
        assert page.url.split("?")[0].endswith("/admin/login")
        await log_in(page, caseworker.username, STAFF_PASSWORD)
    # A form sent without its CSRF token is refused, on a page that still says who is looking.
    await page.goto("/admin/")
    await page.evaluate(
        """() => { const form = document.createElement('form'); form.method = 'post';
        form.action = '/admin/alerts/1/read'; document.body.append(form); form.submit(); }"""
    )
    await page.wait_for_selector("h1 >> text=无权访问")
    assert "页面已过期" in await page.locator("main").inner_text()
    assert await page.locator("header.topbar .who span").inner_text() == f"{name} · 工会工作人员"
