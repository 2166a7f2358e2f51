"""Preset reasons (常用原因): a union's own list, else its nearest ancestor's, whole; kept by union
admins of the subtree only, every change audited; and the tree and account pages saying what
they did."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from models.accounts import StaffAccount, StaffRole
from models.audit import AuditEntry
from models.errors import Invalid
from models.orgs import OrgType
from models.scope import StaffScope
from models.unions.reasons import MAX_REASONS, ReasonKind, add, reasons_for
from models.unions.tables import PresetReason
from tests.factories.common import TEST_ACTOR
from tests.factories.pages import PageSession, page_session
from tests.factories.unions import demo_org, make_org, make_staff


@pytest.fixture
async def open_session(stack) -> AsyncIterator:  # type: ignore[no-untyped-def]
    """Opens page sessions as new staff of a role (at 中山 unless told), closed after the test."""
    opened: list[PageSession] = []

    async def open_as(role: StaffRole, org_name: str = "中山市总工会") -> tuple[PageSession, StaffAccount]:
        staff = await make_staff(await demo_org(org_name), role)
        opened.append(await page_session(stack.base_url, staff))
        return opened[-1], staff

    yield open_as
    for session in opened:
        await session.close()


async def test_a_union_uses_its_own_list_else_its_nearest_ancestors_whole(stack) -> None:
    zhongshan = await demo_org("中山市总工会")
    street = await make_org(zhongshan, org_type=OrgType.TOWN)
    shop = await make_org(street)
    province_returns = await reasons_for((await demo_org("广东省总工会")).id, ReasonKind.RETURN)
    assert province_returns  # the demo's defaults
    # 中山 has its own reject list (replacing the province's); for returns it has none.
    assert await reasons_for(shop.id, ReasonKind.REJECT) == await reasons_for(zhongshan.id, ReasonKind.REJECT)
    assert await reasons_for(shop.id, ReasonKind.REJECT) != await reasons_for(
        (await demo_org("广东省总工会")).id, ReasonKind.REJECT
    )
    assert await reasons_for(shop.id, ReasonKind.RETURN) == province_returns
    everything = StaffScope(org_id=street.id, sees_everything=True)
    await add(everything, street.id, "return", "请补充街道出具的证明", TEST_ACTOR)
    # The street's one reason replaces the province's list for the street and everything below.
    assert await reasons_for(shop.id, ReasonKind.RETURN) == ["请补充街道出具的证明"]
    assert await reasons_for(zhongshan.id, ReasonKind.RETURN) == province_returns


async def test_reasons_are_bounded_in_length_and_number(stack) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    scope = StaffScope(org_id=org.id, sees_everything=True)
    for text in ("", "   ", "长" * 201):
        with pytest.raises(Invalid, match=r"reason\.text"):
            await add(scope, org.id, "reject", text, TEST_ACTOR)
    with pytest.raises(Invalid, match=r"reason\.kind"):
        await add(scope, org.id, "approve", "通过", TEST_ACTOR)
    for n in range(MAX_REASONS):
        await add(scope, org.id, "other", f"原因{n}", TEST_ACTOR)
    with pytest.raises(Invalid, match=r"reason\.too_many"):
        await add(scope, org.id, "other", "再多一条", TEST_ACTOR)
    assert await PresetReason.filter(org_id=org.id).count() == MAX_REASONS


async def test_union_admins_keep_the_lists_of_their_subtree_audited(open_session) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(await demo_org("中山市总工会"))
    admin, staff = await open_session(StaffRole.UNION_ADMIN)
    added = await admin.post("/admin/reasons", org_id=str(org.id), kind="reject", text="材料不全")
    assert added.status_code == 302 and "done=add" in added.headers["location"]
    reason = await PresetReason.get(org_id=org.id, kind="reject")
    assert (await admin.post(f"/admin/reasons/{reason.id}", action="save", text="材料不全，请补齐")).status_code == 302
    await admin.post("/admin/reasons", org_id=str(org.id), kind="reject", text="另一条")
    await admin.post(f"/admin/reasons/{reason.id}", action="down")
    assert await reasons_for(org.id, ReasonKind.REJECT) == ["另一条", "材料不全，请补齐"]
    await admin.post(f"/admin/reasons/{reason.id}", action="delete")
    assert await reasons_for(org.id, ReasonKind.REJECT) == ["另一条"]
    actions = (
        await AuditEntry.filter(actor_id=staff.id, object_type="preset_reason")
        .order_by("id")
        .values_list("action", "org_id")
    )
    assert actions == [(a, org.id) for a in ("reason.add", "reason.edit", "reason.add", "reason.move", "reason.delete")]
    page = await admin.client.get(f"/admin/reasons?org_id={org.id}")
    assert page.status_code == 200 and "另一条" in page.text
    # Bad input is said on the page and changes nothing.
    refused = await admin.post("/admin/reasons", org_id=str(org.id), kind="reject", text=" ")
    assert "error=" in refused.headers["location"]
    assert await PresetReason.filter(org_id=org.id).count() == 1


async def test_outside_the_subtree_is_404_and_caseworkers_may_not(open_session) -> None:  # type: ignore[no-untyped-def]
    shenzhen = await make_org(await demo_org("深圳市总工会"))
    theirs = await add(StaffScope(shenzhen.id, True), shenzhen.id, "reject", "深圳的原因", TEST_ACTOR)
    admin, _ = await open_session(StaffRole.UNION_ADMIN)
    assert (await admin.client.get(f"/admin/reasons?org_id={shenzhen.id}")).status_code == 404
    assert (await admin.post("/admin/reasons", org_id=str(shenzhen.id), kind="reject", text="x")).status_code == 404
    for action in ("save", "delete", "up"):
        assert (await admin.post(f"/admin/reasons/{theirs.id}", action=action, text="改了")).status_code == 404
    assert (await PresetReason.get(id=theirs.id)).text == "深圳的原因"
    caseworker, _ = await open_session(StaffRole.CASEWORKER)
    assert (await caseworker.client.get("/admin/reasons")).status_code == 403
    assert (await caseworker.post("/admin/reasons", kind="reject", text="x")).status_code == 403


async def test_adding_a_union_offers_the_likely_type_and_says_it_was_added(open_session) -> None:  # type: ignore[no-untyped-def]
    admin, _ = await open_session(StaffRole.UNION_ADMIN)
    zhongshan = await demo_org("中山市总工会")
    page = (await admin.client.get(f"/admin/orgs?parent_id={zhongshan.id}")).text
    assert '<option value="district" selected>' in page and '<option value="city" selected>' not in page
    added = await admin.post(f"/admin/orgs/{zhongshan.id}/children", name="测试新增区总工会", org_type="district")
    shown = (await admin.client.get(added.headers["location"])).text
    assert "已在“中山市总工会”下新增“测试新增区总工会”" in shown
    town = await make_org(zhongshan, org_type=OrgType.TOWN)
    assert '<option value="enterprise" selected>' in (await admin.client.get(f"/admin/orgs?parent_id={town.id}")).text


async def test_disabling_an_account_says_so_and_the_top_bar_links_the_password_page(open_session) -> None:  # type: ignore[no-untyped-def]
    admin, _ = await open_session(StaffRole.UNION_ADMIN)
    colleague = await make_staff(await demo_org("中山市总工会"))
    done = await admin.post(f"/admin/accounts/{colleague.id}", action="disable")
    shown = (await admin.client.get(done.headers["location"])).text
    assert f"已停用账号“{colleague.display_name}”" in shown
    assert 'href="/admin/password"' in shown
    # The notice names only accounts the viewer may see.
    outsider = await make_staff(await demo_org("深圳市总工会"))
    assert "已停用账号" not in (await admin.client.get(f"/admin/accounts?done=disable&who={outsider.id}")).text
