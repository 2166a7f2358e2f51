"""Every admin page, a list and a record of each kind, in Chromium at 1366×768 and on a tablet
(768×1024): a screenshot of each saved as a test artifact (test-artifacts/screenshots/tour-*),
axe-core run on each (no serious or critical violation), and no badge, tag or date broken over
two lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page

from models.accounts import StaffRole
from models.membership.tables import Membership
from models.notifications.tables import Broadcast
from models.service_orders.tables import OrderStatus
from tests.admin_pages.conftest import VIEWPORTS, accessibility_problems, log_in
from tests.factories.appeals import file_appeal
from tests.factories.common import STAFF_PASSWORD, bearer, login_staff
from tests.factories.enrolment import applicant
from tests.factories.report import order_with_expert
from tests.factories.service_orders import union
from tests.factories.stations import lonely_spot, make_station
from tests.factories.unions import demo_org, make_staff
from tests.factories.warm_requests import help_request

pytestmark = pytest.mark.usefixtures("dispatcher")

# Labels, buttons and dates that have broken over more than one line: the line boxes of their
# text, counted from the rectangles the browser laid it out in.
WRAPPED_LABELS = """() => {
  const lines = (el) => {
    const rects = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      rects.push(...[...range.getClientRects()].filter((rect) => rect.width > 0));
    }
    rects.sort((a, b) => a.top - b.top);
    let count = 0, bottom = -Infinity;
    for (const rect of rects) {
      if (rect.top >= bottom - 2) { count += 1; bottom = rect.bottom; }
    }
    return count;
  };
  const date = /^\\d{4}-\\d{2}-\\d{2}( \\d{2}:\\d{2})?$/;
  return [...document.querySelectorAll('.badge, .tag, span.nowrap, table.list button, td, dd')]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => !['TD', 'DD'].includes(el.tagName) || date.test(el.textContent.trim()))
    .filter((el) => lines(el) > 1)
    .map((el) => el.textContent.trim());
}"""


@dataclass
class Tour:
    admin: str
    pages: list[tuple[str, str]]


@pytest.fixture(scope="module")
async def tour(stack) -> AsyncIterator[Tour]:
    """One record of each kind in 中山, made as the demo's people would make them."""
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as api:
        world = await order_with_expert(api, OrderStatus.DELIVERED, where=await union(api))
        admin = bearer(world.where.admin)
        _, _, waiting = await applicant(api, real_name="欧阳娜娜")
        _, _, approved = await applicant(api, real_name="李雷")
        city_admin = await make_staff(await demo_org("中山市总工会"), StaffRole.UNION_ADMIN)
        city = bearer(await login_staff(api, city_admin.username))
        assert (await api.post(f"/api/v1/admin/enrolments/{approved}/approve", headers=city)).status_code == 200
        member = await Membership.get(enrolment_id=approved)
        _, warm = await help_request(api, world.org.id)
        worker, _, _ = await applicant(api)
        await file_appeal(api, worker, world.org.id)
        engagement = await api.post(
            "/api/v1/admin/engagements",
            json={
                "enterprise_id": world.enterprise_id,
                "expert_id": world.expert_id,
                "role": "首席质量官",
                "starts_on": "2025-01-01",
                "ends_on": None,
                "order_id": None,
            },
            headers=admin,
        )
        assert engagement.status_code == 201, engagement.text
        station = await make_station(world.org, *lonely_spot())
        broadcast = await Broadcast.create(
            org_id=world.org.id, title="春节慰问", body="祝各位会员新春快乐", created_by_id=city_admin.id
        )
    ids = {
        "enrolment": waiting,
        "member": member.id,
        "order": world.order_id,
        "warm": warm["id"],
        "enterprise": world.enterprise_id,
        "expert": world.expert_id,
        "engagement": engagement.json()["id"],
        "station": station.id,
        "broadcast": broadcast.id,
        "org": world.org.id,
    }
    pages = [
        ("home", "/admin/"),
        ("enrolments", "/admin/enrolments"),
        ("enrolment", "/admin/enrolments/{enrolment}"),
        ("members", "/admin/members"),
        ("member", "/admin/members/{member}"),
        ("service-orders", "/admin/service-orders"),
        ("service-order", "/admin/service-orders/{order}"),
        ("service-order-report", "/admin/service-orders/{order}/report"),
        ("warm-requests", "/admin/warm-requests"),
        ("warm-request", "/admin/warm-requests/{warm}"),
        ("enterprises", "/admin/enterprises"),
        ("enterprise", "/admin/enterprises/{enterprise}"),
        ("experts", "/admin/experts"),
        ("expert", "/admin/experts/{expert}"),
        ("expert-new", "/admin/experts/new"),
        ("engagements", "/admin/engagements"),
        ("engagement", "/admin/engagements/{engagement}"),
        ("stations", "/admin/stations"),
        ("station", "/admin/stations/{station}"),
        ("station-new", "/admin/stations/new"),
        ("station-qr", "/admin/stations/{station}/qr"),
        ("appeals", "/admin/appeals"),
        ("notifications", "/admin/notifications"),
        ("broadcasts", "/admin/broadcasts"),
        ("broadcast", "/admin/broadcasts/{broadcast}"),
        ("broadcast-new", "/admin/broadcasts/new"),
        ("alerts", "/admin/alerts"),
        ("orgs", "/admin/orgs"),
        ("org-service", "/admin/orgs/{org}/service"),
        ("accounts", "/admin/accounts"),
        ("sla-policies", "/admin/sla-policies"),
        ("audit", "/admin/audit"),
        ("jobs", "/admin/jobs"),
        ("password", "/admin/password"),
    ]
    yield Tour(city_admin.username, [(name, path.format(**ids)) for name, path in pages])


async def _check(page: Page, name: str, screenshots: Path) -> list[str]:
    await page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    problems = [f"{name}: {p}" for p in await accessibility_problems(page)]
    wrapped = await page.evaluate(WRAPPED_LABELS)
    problems += [f"{name}: wrapped over two lines: {text}" for text in wrapped]
    # What is too wide scrolls in its own box; the page itself never scrolls sideways.
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        problems.append(f"{name}: the page is {width[0]} px wide in a {width[1]} px window")
    return problems


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
async def test_every_admin_page_reads_well_and_passes_axe(
    tour: Tour, browser: Browser, stack, screenshots: Path, size: str
) -> None:
    context = await browser.new_context(base_url=stack.base_url, viewport=VIEWPORTS[size], locale="zh-CN")
    page = await context.new_page()
    problems: list[str] = []
    try:
        await page.goto("/admin/login")
        problems += await _check(page, f"tour-{size}-login", screenshots)
        await log_in(page, tour.admin, STAFF_PASSWORD)
        for name, path in tour.pages:
            answer = await page.goto(path)
            assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
            problems += await _check(page, f"tour-{size}-{name}", screenshots)
        answer = await page.goto("/admin/no-such-page")
        assert answer is not None and answer.status == 404
        problems += await _check(page, f"tour-{size}-not-found", screenshots)
    finally:
        await context.close()
        # Beside the screenshots, what axe and the label check found, for whoever fixes it.
        (screenshots / f"tour-{size}-problems.txt").write_text("\n".join(problems) + "\n")
    assert problems == []


async def test_the_checks_find_a_wrapped_badge_and_a_missing_label(context, stack) -> None:  # type: ignore[no-untyped-def]
    page = await context.new_page()
    await page.goto("/admin/login")
    assert await accessibility_problems(page) == [] and await page.evaluate(WRAPPED_LABELS) == []
    await page.evaluate(
        """() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<div style="width: 2em"><span class="badge" style="white-space: normal">待审核</span></div>'
        + '<div style="width: 3em"><table><tr><td>2026-12-14</td></tr></table></div>'
        + '<input type="text" name="unlabelled">')"""
    )
    assert await page.evaluate(WRAPPED_LABELS) == ["待审核", "2026-12-14"]
    assert any(problem.startswith("label (critical)") for problem in await accessibility_problems(page))
