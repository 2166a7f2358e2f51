"""One desk over every queue, in Chromium: each card's count is the row count of the list it
opens; a queue keeps its filter through paging, export, the case pages and back; an action moves
to the next case of the same queue; batch decisions say how many; saved filters; and the
essentials with JavaScript off."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from openpyxl import load_workbook
from playwright.async_api import Browser, BrowserContext, Dialog, Page

from models.accounts import StaffAccount
from models.audit import Actor, AuditEntry
from models.desk.saved_filters import SavedFilter
from models.enrolment.tables import Enrolment, EnrolmentStatus
from models.kernel.timers import SlaTimer
from models.orgs import Org
from models.scope import StaffScope
from models.warm_requests.actions import assign
from server.clock import now
from tests.admin_pages.conftest import desk_cards, list_total, log_in
from tests.factories.appeals import file_appeal
from tests.factories.common import STAFF_PASSWORD, login_worker, unique
from tests.factories.enrolment import aged_applications
from tests.factories.service_orders import placed_order, union
from tests.factories.unions import demo_org, make_org, make_staff
from tests.factories.warm_requests import help_request


async def _caseworker(page: Page, org: Org) -> StaffAccount:
    staff = await make_staff(org)
    await log_in(page, staff.username, STAFF_PASSWORD)
    return staff


async def test_every_desk_card_counts_what_its_list_shows(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    where = await union(api)
    org = where.org
    await aged_applications(api, org, [0.1, 1, 4, 5])
    page = await context.new_page()
    staff = await _caseworker(page, org)
    actor, scope = Actor("staff", staff.id, staff.display_name), StaffScope(org_id=org.id, sees_everything=False)
    mine, unassigned, late = [(await help_request(api, org.id))[1]["id"] for _ in range(3)]
    await assign(scope, mine, staff.id, actor)
    # Arranged in the database: a request whose first response is already late.
    await SlaTimer.filter(case_type="warm_request", case_id=late).update(
        risk_at=now() - timedelta(hours=2), due_at=now() - timedelta(hours=1), next_check_at=now()
    )
    at_risk, breached, waiting = [(await placed_order(api, where)).id for _ in range(3)]
    await SlaTimer.filter(case_type="service_order", case_id=at_risk).update(risk_at=now() - timedelta(hours=1))
    await SlaTimer.filter(case_type="service_order", case_id=breached).update(
        risk_at=now() - timedelta(days=2), due_at=now() - timedelta(days=1)
    )
    worker, _ = await login_worker(api)
    assert (await file_appeal(api, worker, org.id)).status_code == 201

    await page.goto("/admin/")
    await page.screenshot(path=screenshots / "desk-queues.png", full_page=True)
    found = await desk_cards(page)
    expected = {
        "待审核入会申请": 4,
        "超过 3 天未审核": 2,
        "交给我办理的求助": 1,
        "本辖区未分派的求助": 2,
        "已超时的求助": 1,
        "待派单的点单": 3,
        "临近截止的点单": 1,
        "已逾期的点单": 1,
        "待答复的职工诉求": 1,
    }
    assert {label: found[label][0] for label in expected} == expected
    for label, (count, href) in found.items():
        await page.goto(href)
        assert await list_total(page) == count, (label, href)

    # The overdue list shows each row's age, past its due time.
    await page.goto(found["超过 3 天未审核"][1])
    ages = await page.locator("table.list tbody .badge.waiting.late").all_inner_texts()
    assert sorted(ages) == ["已等待 4 天", "已等待 5 天"]
    assert waiting and unassigned  # rows of their queues, counted above


async def test_work_through_a_queue_to_its_end(api: httpx.AsyncClient, context: BrowserContext) -> None:
    org = await make_org(await demo_org("中山市总工会"), name=unique("审核工会"))
    newest, middle, oldest = [made[2] for made in await aged_applications(api, org, [1, 2, 3])]
    page = await context.new_page()
    await _caseworker(page, org)
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))  # each decision asks first
    listing = f"/admin/enrolments?queue=pending&org_id={org.id}&sort=submitted_at"
    await page.goto(listing)
    assert "只显示" in await page.inner_text("main") and org.name in await page.inner_text(".scoped")
    await page.locator("table.list tbody a", has_text="申请人").first.click()
    await page.wait_for_load_state()
    assert f"/admin/enrolments/{oldest}?back=" in page.url
    assert await page.get_attribute("a:has-text('← 返回列表')", "href") == listing
    assert await page.locator("a[rel=prev]").count() == 0
    assert (
        await page.get_attribute("a[rel=next]", "href") == f"/admin/enrolments/{middle}?back={quote(listing, safe='/')}"
    )

    await page.click("form[action$='/approve'] button")
    await page.wait_for_load_state()
    assert urlsplit(page.url).path == f"/admin/enrolments/{middle}"
    assert parse_qs(urlsplit(page.url).query)["back"] == [listing]
    assert f"#{oldest}" in await page.inner_text("p.notice")
    assert await page.locator("a[rel=prev]").count() == 0  # the approved one left the queue
    await page.click("a[rel=next]")
    await page.wait_for_load_state()
    assert urlsplit(page.url).path == f"/admin/enrolments/{newest}"
    await page.click("a[rel=prev]")
    await page.wait_for_load_state()
    assert urlsplit(page.url).path == f"/admin/enrolments/{middle}"

    await page.fill("form[action$='/return'] textarea", "请补充从业证明")
    await page.click("form[action$='/return'] button")
    await page.wait_for_load_state()
    assert urlsplit(page.url).path == f"/admin/enrolments/{newest}"
    await page.fill("form[action$='/reject'] textarea", "不在本会服务范围")
    await page.click("form[action$='/reject'] button")
    await page.wait_for_selector("text=这个队列已全部办理完毕")
    assert urlsplit(page.url).path == "/admin/enrolments" and await list_total(page) == 0
    statuses = dict(await Enrolment.filter(id__in=[oldest, middle, newest]).values_list("id", "status"))
    assert statuses == {oldest: "approved", middle: "returned", newest: "rejected"}

    # A foreign or malformed `back` is ignored: the link goes to the default queue, never off-site.
    for back in ("https://evil.example/admin/", "//evil.example/admin/", "/admin\\@evil", "javascript:alert(1)"):
        await page.goto(f"/admin/enrolments/{oldest}?back={quote(back)}")
        assert await page.get_attribute("a:has-text('← 返回列表')", "href") == "/admin/enrolments?queue=pending"


async def test_batch_decisions_name_the_count(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    org = await make_org(await demo_org("中山市总工会"), name=unique("批量工会"))
    first, second, third = [made[2] for made in await aged_applications(api, org, [1, 2, 3])]
    page = await context.new_page()
    await _caseworker(page, org)
    await page.goto(f"/admin/enrolments?queue=pending&org_id={org.id}")
    button = page.locator("button[data-batch-count]")
    assert await button.is_disabled()  # nothing selected: no button, so no confirmation
    await page.check(f"input[name=ids][value='{first}']")
    await page.check(f"input[name=ids][value='{third}']")
    assert "（2 份）" in await button.inner_text() and not await button.is_disabled()
    await page.screenshot(path=screenshots / "enrolment-queue-batch.png", full_page=True)
    await page.select_option("select[name=action]", "reject")
    await page.fill("input[name=reason]", "材料不全")
    asked: list[str] = []

    async def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.once("dialog", answer)
    await button.click()
    await page.wait_for_selector("text=批量驳回：成功 2 份")
    assert asked == ["确定驳回所选的 2 份申请吗？"]
    statuses = dict(await Enrolment.filter(id__in=[first, second, third]).values_list("id", "status"))
    assert statuses == {first: "rejected", second: "submitted", third: "rejected"}


async def test_saved_filters_are_the_caseworkers_own(
    api: httpx.AsyncClient, browser: Browser, stack, context: BrowserContext
) -> None:
    org = await make_org(await demo_org("中山市总工会"), name=unique("筛选工会"))
    await aged_applications(api, org, [4])
    page = await context.new_page()
    staff = await _caseworker(page, org)
    await page.goto(f"/admin/enrolments?queue=overdue&org_id={org.id}&page=1")
    await page.fill("section[aria-label=我的筛选] input[name=name]", "本会超期")
    await page.click("section[aria-label=我的筛选] button[type=submit]:has-text('保存筛选')")
    await page.wait_for_selector("text=筛选条件已保存")
    kept = await SavedFilter.get(staff_id=staff.id, name="本会超期")
    assert kept.url == f"/admin/enrolments?queue=overdue&org_id={org.id}"
    assert await AuditEntry.exists(action="saved_filter.save", object_id=str(kept.id), actor_id=staff.id)

    await page.goto("/admin/")
    await page.click("section[aria-label=我的筛选] a:has-text('本会超期')")
    await page.wait_for_load_state()
    assert await list_total(page) == 1 and "queue=overdue" in page.url

    other = await browser.new_context(base_url=stack.base_url)
    stranger = await other.new_page()
    await _caseworker(stranger, org)
    await stranger.goto("/admin/enrolments")
    assert "本会超期" not in await stranger.inner_text("section[aria-label=我的筛选]")
    refused = await stranger.request.post(
        f"/admin/saved-filters/{kept.id}/delete",
        form={"csrf_token": await stranger.get_attribute("input[name=csrf_token]", "value") or ""},
        headers={"Origin": stack.base_url},
        max_redirects=0,
    )
    assert refused.status == 404 and await SavedFilter.exists(id=kept.id)
    await other.close()

    await page.goto("/admin/")
    await page.click("section[aria-label=我的筛选] button:has-text('删除')")
    await page.wait_for_selector("text=筛选条件已删除")
    assert not await SavedFilter.exists(id=kept.id)
    assert await AuditEntry.exists(action="saved_filter.delete", object_id=str(kept.id))


async def test_the_essentials_without_javascript(api: httpx.AsyncClient, no_script: BrowserContext) -> None:
    org = await make_org(await demo_org("中山市总工会"), name=unique("无脚本工会"))
    ids = [made[2] for made in await aged_applications(api, org, [1 + day / 10 for day in range(22)])]
    page = await no_script.new_page()
    await _caseworker(page, org)
    await page.goto(f"/admin/enrolments?org_id={org.id}")
    await page.select_option("select[name=queue]", "pending")
    await page.select_option("select[name=sort]", "submitted_at")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_load_state()
    assert await list_total(page) == 22
    next_page = await page.get_attribute("nav.pager a[rel=next]", "href")
    assert parse_qs(urlsplit(next_page).query) == {
        "org_id": [str(org.id)],
        "queue": ["pending"],
        "sort": ["submitted_at"],
        "page": ["2"],
    }
    export_url = await page.get_attribute("a:has-text('导出 Excel')", "href")
    export = parse_qs(urlsplit(export_url).query)
    assert export["queue"] == ["pending"] and export["org_id"] == [str(org.id)] and "page" not in export
    sheet = load_workbook(io.BytesIO(await (await page.request.get(export_url)).body())).active
    assert sheet.max_row == 1 + 22  # the header and every row the filter shows, not one page

    # A batch with nothing selected: refused by the server, nothing changes.
    await page.click("button[data-batch-count]")
    await page.wait_for_selector("text=没有选择任何申请")
    assert await Enrolment.filter(id__in=ids, status=EnrolmentStatus.SUBMITTED).count() == 22

    await page.locator("table.list tbody a", has_text="申请人").first.click()
    await page.wait_for_load_state()
    oldest = ids[-1]  # made last, submitted longest ago
    assert urlsplit(page.url).path == f"/admin/enrolments/{oldest}"
    await page.click("form[action$='/approve'] button")
    await page.wait_for_load_state()
    assert urlsplit(page.url).path == f"/admin/enrolments/{ids[-2]}"
    assert (await Enrolment.get(id=oldest)).status == EnrolmentStatus.APPROVED

    await page.goto(f"/admin/members?org_id={org.id}")
    assert org.name in await page.inner_text(".scoped")
    assert await page.get_attribute(".scoped a", "href") == "/admin/members"


async def test_prev_and_next_follow_the_list_through_ties(api: httpx.AsyncClient, context: BrowserContext) -> None:
    org = await make_org(await demo_org("中山市总工会"), name=unique("顺序工会"))
    ids = [made[2] for made in await aged_applications(api, org, [2, 1, 1, 1])]
    same = await Enrolment.get(id=ids[1])
    await Enrolment.filter(id__in=ids[1:]).update(submitted_at=same.submitted_at)  # three at one instant
    page = await context.new_page()
    await _caseworker(page, org)
    for sort in ("submitted_at", "-submitted_at", "name"):
        await page.goto(f"/admin/enrolments?queue=pending&org_id={org.id}&sort={sort}")
        links = page.locator("table.list tbody td:nth-child(2) a")
        listed = [urlsplit(await links.nth(i).get_attribute("href")).path for i in range(await links.count())]
        assert len(listed) == 4
        await links.first.click()
        await page.wait_for_load_state()
        walked = [urlsplit(page.url).path]
        while await page.locator("a[rel=next]").count():
            await page.click("a[rel=next]")
            await page.wait_for_load_state()
            walked.append(urlsplit(page.url).path)
        assert walked == listed, sort
        while await page.locator("a[rel=prev]").count():
            await page.click("a[rel=prev]")
            await page.wait_for_load_state()
            walked.append(urlsplit(page.url).path)
        assert walked[3:] == listed[::-1], sort
