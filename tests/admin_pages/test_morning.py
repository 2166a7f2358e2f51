"""A caseworker's morning, walked in Chromium as issue 12 puts it: log in, see the desk (every
card's count is the row count of the list it opens), work through the pending applications and
the help requests with the keyboard, export what a filter shows, and (as the union's admin, who
may read it) the audit log of the morning. Every page visited is photographed at 1366×768 and on
a tablet and checked by axe-core."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import BrowserContext, Dialog, Page

from models.accounts import StaffAccount, StaffRole
from models.audit import Actor
from models.enrolment.tables import Enrolment
from models.orgs import Org
from models.scope import StaffScope
from models.unions import reasons
from models.warm_requests.actions import assign
from models.warm_requests.tables import RequestStatus, WarmMessage, WarmRequest
from server.clock import now
from tests.admin_pages.conftest import VIEWPORTS, accessibility_problems, desk_cards, list_total, log_in
from tests.factories.appeals import file_appeal
from tests.factories.common import STAFF_PASSWORD, TEST_ACTOR, bearer, eventually, login_worker, unique
from tests.factories.enrolment import aged_applications
from tests.factories.notifications import sandbox_messages
from tests.factories.service_orders import placed_order, union
from tests.factories.unions import make_staff
from tests.factories.warm_requests import help_request

pytestmark = pytest.mark.usefixtures("dispatcher")

PRESET = "不在本会服务范围内"


class Walk:
    """The page being walked, the dialogs it asked (all accepted) and what each look found."""

    def __init__(self, page: Page, screenshots: Path) -> None:
        self.page, self.screenshots = page, screenshots
        self.asked: list[str] = []
        self.problems: list[str] = []
        page.on("dialog", self._accept)

    async def _accept(self, dialog: Dialog) -> None:
        self.asked.append(dialog.message)
        await dialog.accept()

    async def look(self, step: str) -> None:
        """A screenshot of the page on each screen and axe-core's serious findings on each."""
        for size, viewport in VIEWPORTS.items():
            await self.page.set_viewport_size(viewport)
            await self.page.screenshot(path=self.screenshots / f"morning-{step}-{size}.png", full_page=True)
            self.problems += [f"{step} ({size}): {p}" for p in await accessibility_problems(self.page)]
        await self.page.set_viewport_size(VIEWPORTS["desktop"])

    async def press(self, *keys: str) -> None:
        """Keys that end in another page: wait for it."""
        async with self.page.expect_navigation():
            for key in keys:
                await self.page.keyboard.press(key)

    async def write(self, key: str, text: str) -> None:
        """A shortcut whose form needs text: the key puts the cursor in its box, Ctrl+Enter sends."""
        await self.page.keyboard.press(key)
        await self.page.keyboard.type(text)
        await self.press("Control+Enter")

    def path(self) -> str:
        return urlsplit(self.page.url).path


async def _resubmitted(api: httpx.AsyncClient, where_caseworker: str, token: str, enrolment_id: int) -> None:
    """Returned for more material and sent again by the worker."""
    returned = await api.post(
        f"/api/v1/admin/enrolments/{enrolment_id}/return",
        json={"reason": "请补充从业证明"},
        headers=bearer(where_caseworker),
    )
    assert returned.status_code == 200, returned.text
    again = await api.post(
        f"/api/v1/enrolments/{enrolment_id}/resubmit", json={"note": "已补充"}, headers=bearer(token)
    )
    assert again.json()["status"] == "resubmitted", again.text


async def test_a_caseworkers_morning(
    api: httpx.AsyncClient, sandbox: httpx.AsyncClient, context: BrowserContext, screenshots: Path, tmp_path: Path
) -> None:
    # 1. A fresh union with its morning's work.
    where = await union(api)
    org = where.org
    await reasons.add(StaffScope(org_id=org.id, sees_everything=True), org.id, "reject", PRESET, TEST_ACTOR)
    # Oldest first, as the desk's queue lists them: one overdue, one resubmitted, two fresh.
    applications = await aged_applications(api, org, [4, 2, 1, 0.5], consents=1)
    overdue, resubmitted, fresh, newest = (made[2] for made in applications)
    await _resubmitted(api, where.caseworker, applications[1][0], resubmitted)
    # (resubmitting dates it anew: back to its place in the queue)
    await Enrolment.filter(id=resubmitted).update(submitted_at=now() - timedelta(days=2))
    caseworker = await make_staff(org)
    name = unique("周")[:8]
    await StaffAccount.filter(id=caseworker.id).update(display_name=name)
    scope = StaffScope(org_id=org.id, sees_everything=False)
    mine, unassigned, other = [(await help_request(api, org.id))[1]["id"] for _ in range(3)]
    await assign(scope, mine, caseworker.id, Actor("staff", caseworker.id, name))
    await placed_order(api, where)
    worker, _ = await login_worker(api)
    assert (await file_appeal(api, worker, org.id)).status_code == 201

    # 2. The login page, then the desk: every card counts what its list shows.
    page = await context.new_page()
    walk = Walk(page, screenshots)
    await page.goto("/admin/login")
    await walk.look("login")
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    assert walk.path() == "/admin/"
    await walk.look("desk")
    found = await desk_cards(page)
    expected = {
        "待审核入会申请": 4,
        "超过 3 天未审核": 1,
        "交给我办理的求助": 1,
        "本辖区未分派的求助": 2,
        "待派单的点单": 1,
        "待答复的职工诉求": 1,
    }
    assert {label: found[label][0] for label in expected} == expected
    for number, (label, (count, href)) in enumerate(found.items(), 1):
        await page.goto(href)
        assert await list_total(page) == count, (label, href)
        await walk.look(f"card{number:02d}")

    await page.goto(found["超过 3 天未审核"][1])
    assert await page.locator("table.list tbody .badge.waiting.late").all_inner_texts() == ["已等待 4 天"]

    # 3. The pending applications with the keyboard, from the desk's queue, oldest first.
    await page.goto(found["待审核入会申请"][1])
    await page.locator("table.list tbody td:nth-child(2) a").first.focus()
    await walk.press("Enter")
    assert walk.path() == f"/admin/enrolments/{overdue}"
    await walk.look("case1")
    await walk.press("a")
    applicant_name = (await Enrolment.get(id=overdue)).real_name
    assert applicant_name in walk.asked[-1] and "通过" in walk.asked[-1]
    assert walk.path() == f"/admin/enrolments/{resubmitted}"
    await walk.look("case2")
    await walk.write("r", "申请材料与本人信息不符")  # no reason yet: the cursor goes to the reason box
    assert (await Enrolment.get(id=resubmitted)).real_name in walk.asked[-1] and "驳回" in walk.asked[-1]
    assert walk.path() == f"/admin/enrolments/{fresh}"
    await walk.look("case3")
    await walk.write("t", "请补充平台接单截图")
    assert walk.path() == f"/admin/enrolments/{newest}"
    await walk.look("case4")
    # A preset reason, picked with the keyboard: from the reason box back to the list above it.
    await page.keyboard.press("r")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("ArrowDown")
    assert await page.input_value("form[action$='/reject'] textarea") == PRESET
    await walk.press("Control+Enter")
    await page.wait_for_selector("text=这个队列已全部办理完毕")
    assert walk.path() == "/admin/enrolments" and await list_total(page) == 0
    await walk.look("queue-done")
    assert len(walk.asked) == 4
    statuses = dict(await Enrolment.filter(id__in=[overdue, resubmitted, fresh, newest]).values_list("id", "status"))
    assert statuses == {overdue: "approved", resubmitted: "rejected", fresh: "returned", newest: "rejected"}
    # What each applicant heard, in the inbox and (while consent lasted) on WeChat.
    heard = {
        overdue: ("入会申请已通过", "会员号", "已通过"),
        resubmitted: ("入会申请未通过", "申请材料与本人信息不符", None),  # its consent went on the first return
        fresh: ("入会申请需补充材料", "请补充平台接单截图", "需补充材料"),
        newest: ("入会申请未通过", PRESET, "未通过"),
    }
    for (token, openid, enrolment_id), (title, text, phrase) in zip(applications, heard.values(), strict=True):
        inbox = (await api.get("/api/v1/me/inbox", headers=bearer(token))).json()
        assert inbox["items"][0]["title"] == title and text in inbox["items"][0]["body"], enrolment_id
        if phrase:
            messages = await eventually(lambda openid=openid: sandbox_messages(sandbox, openid), within=10)
            assert [m["data"]["phrase1"]["value"] for m in messages] == [phrase], enrolment_id

    # 4. The help requests, with the keyboard too: mine first, answered and resolved.
    await page.goto(found["交给我办理的求助"][1])
    await page.locator("table.list tbody a[href^='/admin/warm-requests/']").first.focus()
    await walk.press("Enter")
    assert walk.path() == f"/admin/warm-requests/{mine}"
    await walk.look("warm-mine")
    await walk.write("e", "您好，已收到，我们正在联系配送站核实")
    assert walk.path() == f"/admin/warm-requests/{mine}"
    assert await WarmMessage.exists(
        request_id=mine, author_kind="staff", content="您好，已收到，我们正在联系配送站核实"
    )
    await walk.look("warm-replied")
    await walk.write("d", "配送站已补发三个月配送费")
    assert "办结" in walk.asked[-1]
    assert (await WarmRequest.get(id=mine)).status == RequestStatus.RESOLVED
    await walk.look("warm-resolved")
    # Then an unassigned one, claimed and answered.
    await page.goto(found["本辖区未分派的求助"][1])
    await walk.look("warm-unassigned")
    await page.locator("table.list tbody a[href^='/admin/warm-requests/']").first.focus()
    await walk.press("Enter")
    claimed = int(walk.path().rsplit("/", 1)[1])
    assert claimed in (unassigned, other)
    await walk.press("c")
    assert (await WarmRequest.get(id=claimed)).assignee_id == caseworker.id
    await walk.look("warm-claimed")
    await walk.write("e", "已受理，请保留欠薪凭证")
    assert await WarmMessage.exists(request_id=claimed, author_kind="staff", content="已受理，请保留欠薪凭证")

    # 5. What a filter shows, exported: the same rows, the header frozen.
    await page.goto("/admin/enrolments")
    await page.select_option("select[name=status]", "rejected")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_load_state()
    await walk.look("filtered")
    listed = sorted(await page.locator("table.list tbody td:nth-child(2) a").all_inner_texts())
    assert await list_total(page) == len(listed) == 2
    async with page.expect_download() as download:
        await page.click("a:has-text('导出 Excel')")
    exported = await download.value
    assert exported.suggested_filename.endswith(".xlsx")
    await exported.save_as(tmp_path / exported.suggested_filename)
    sheet = load_workbook(tmp_path / exported.suggested_filename).active
    assert sheet.freeze_panes == "A2"  # type: ignore[union-attr]
    header = [cell.value for cell in sheet[1]]  # type: ignore[index]
    names = sorted(row[header.index("姓名")] for row in sheet.iter_rows(min_row=2, values_only=True))  # type: ignore[union-attr]
    assert names == listed

    # 6. The audit log, read by the union's admin: the morning in Chinese, by name, with links.
    await page.click("header.topbar >> text=退出")
    admin = await make_staff(await Org.get(id=org.id), StaffRole.UNION_ADMIN)
    await log_in(page, admin.username, STAFF_PASSWORD)
    await page.goto(f"/admin/audit?actor={name}")
    await walk.look("audit")
    rows = page.locator("table.list tbody tr")
    # The claim names who holds the case and what kind of person, in words, not codes.
    assert "承办人类型：工作人员" in await page.inner_text("main")
    assert "assignee_kind" not in await page.inner_text("main")
    for enrolment_id, action in (
        (overdue, "通过入会申请"),
        (resubmitted, "驳回入会申请"),
        (fresh, "退回补充材料"),
        (newest, "驳回入会申请"),
    ):
        row = rows.filter(has=page.locator(f"a[href='/admin/enrolments/{enrolment_id}']"))
        text = await row.inner_text()
        assert name in text and action in text and "enrolment." not in text, enrolment_id
    for request_id, action in ((mine, "办结暖心服务"), (mine, "回复职工"), (claimed, "回复职工")):
        text = "\n".join(
            await rows.filter(has=page.locator(f"a[href='/admin/warm-requests/{request_id}']")).all_inner_texts()
        )
        assert name in text and action in text and "warm_request." not in text, request_id

    # 7. Every page visited, on both screens, without a serious accessibility problem.
    assert walk.problems == []
