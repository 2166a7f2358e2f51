"""The admin calendar API: who may see and change which days, what is reported, and the audit."""

from __future__ import annotations

from datetime import date

import httpx

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.kernel.calendar import WorkdayCalendar
from models.orgs import OrgType
from tests.factories.common import assert_error, bearer, login_staff
from tests.factories.unions import demo_org, make_org, make_staff


async def staff_token(api: httpx.AsyncClient, org, role: StaffRole) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(await login_staff(api, (await make_staff(org, role)).username))


async def test_caseworkers_are_refused(api: httpx.AsyncClient) -> None:
    caseworker = await staff_token(api, await demo_org("中山市总工会"), StaffRole.CASEWORKER)
    assert_error(await api.get("/api/v1/admin/calendar", headers=caseworker), 403, "auth.role_forbidden")
    body = {"date": "2026-03-07", "working": True}
    assert_error(
        await api.put("/api/v1/admin/calendar/days", json=body, headers=caseworker), 403, "auth.role_forbidden"
    )
    assert_error(await api.get("/api/v1/admin/calendar"), 401, "auth.required")


async def test_a_union_admin_sets_days_for_their_subtree_only(api: httpx.AsyncClient) -> None:
    zhongshan = await demo_org("中山市总工会")
    town = await make_org(zhongshan, org_type=OrgType.TOWN)
    below = await make_org(town)
    admin = await staff_token(api, town, StaffRole.UNION_ADMIN)

    body = {"date": "2026-03-14", "working": True, "note": "服务日", "org_id": below.id}
    answer = await api.put("/api/v1/admin/calendar/days", json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"date": "2026-03-14", "working": True, "note": "服务日", "org_id": below.id}
    entry = await AuditEntry.filter(action="calendar.override_set", org_id=below.id).get()
    assert entry.before is None and entry.after == {"working": True, "note": "服务日"}
    assert (await WorkdayCalendar.load(below.id)).is_working_day(date(2026, 3, 14))

    # Changing it again is audited with what it was.
    answer = await api.put("/api/v1/admin/calendar/days", json={**body, "working": False, "note": ""}, headers=admin)
    assert answer.status_code == 200, answer.text
    last = await AuditEntry.filter(action="calendar.override_set", org_id=below.id).order_by("-id").first()
    assert last.before == {"working": True, "note": "服务日"} and last.after == {"working": False, "note": ""}

    year = (await api.get("/api/v1/admin/calendar", params={"year": 2026, "org_id": below.id}, headers=admin)).json()
    assert year["official"] and year["org_id"] == below.id
    days = {day["date"]: day for day in year["days"]}
    assert days["2026-03-14"] == {
        "date": "2026-03-14",
        "working": False,
        "name": "调整为休息日",
        "source": "override",
        "org_id": below.id,
        "note": "",
    }
    assert days["2026-02-14"]["working"] and days["2026-02-14"]["source"] == "library"
    assert not days["2026-10-01"]["working"]
    # Without org_id a union admin sees their own union's calendar.
    own = (await api.get("/api/v1/admin/calendar", params={"year": 2026}, headers=admin)).json()
    assert own["org_id"] == town.id and "2026-03-14" not in {day["date"] for day in own["days"]}

    shenzhen = await demo_org("深圳市总工会")
    outside = {**body, "org_id": shenzhen.id}
    assert_error(await api.put("/api/v1/admin/calendar/days", json=outside, headers=admin), 404, "org.not_found")
    assert_error(
        await api.get("/api/v1/admin/calendar", params={"org_id": shenzhen.id}, headers=admin), 404, "org.not_found"
    )
    nationwide = {"date": "2026-03-14", "working": True}
    assert_error(
        await api.put("/api/v1/admin/calendar/days", json=nationwide, headers=admin),
        403,
        "calendar.nationwide_forbidden",
    )
    assert_error(
        await api.delete("/api/v1/admin/calendar/days/2026-03-14", headers=admin), 403, "calendar.nationwide_forbidden"
    )

    deleted = await api.delete("/api/v1/admin/calendar/days/2026-03-14", params={"org_id": below.id}, headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert await AuditEntry.filter(action="calendar.override_removed", org_id=below.id).count() == 1
    assert_error(
        await api.delete("/api/v1/admin/calendar/days/2026-03-14", params={"org_id": below.id}, headers=admin),
        404,
        "calendar.override_not_found",
    )


async def test_the_superadmin_sets_nationwide_days_and_unknown_years_say_so(api: httpx.AsyncClient) -> None:
    superadmin = await staff_token(api, await demo_org("广东省总工会"), StaffRole.SUPERADMIN)
    estimated = (await api.get("/api/v1/admin/calendar", params={"year": 2027}, headers=superadmin)).json()
    assert estimated["official"] is False and estimated["org_id"] is None
    assert {day["source"] for day in estimated["days"]} == {"estimated"}

    # The suite shares its database: other tests set and clear this day too, so only this test's
    # entries are counted.
    newest = await AuditEntry.all().order_by("-id").first()
    since = newest.id if newest else 0
    body = {"date": "2027-02-20", "working": True, "note": "春节调休上班"}
    answer = await api.put("/api/v1/admin/calendar/days", json=body, headers=superadmin)
    assert answer.status_code == 200, answer.text
    try:
        year = (await api.get("/api/v1/admin/calendar", params={"year": 2027}, headers=superadmin)).json()
        day = next(day for day in year["days"] if day["date"] == "2027-02-20")
        assert day["source"] == "override" and day["working"] and day["org_id"] is None
        entry = await AuditEntry.filter(
            id__gt=since, action="calendar.override_set", object_id="2027-02-20@nationwide"
        ).get()
        assert entry.org_id is None and entry.after == {"working": True, "note": "春节调休上班"}
    finally:
        deleted = await api.delete("/api/v1/admin/calendar/days/2027-02-20", headers=superadmin)
    assert deleted.status_code == 204, deleted.text
    removed = AuditEntry.filter(id__gt=since, action="calendar.override_removed", object_id="2027-02-20@nationwide")
    assert await removed.count() == 1


async def test_bad_input_is_refused_and_changes_nothing(api: httpx.AsyncClient) -> None:
    superadmin = await staff_token(api, await demo_org("广东省总工会"), StaffRole.SUPERADMIN)
    before = await AuditEntry.filter(action="calendar.override_set").count()
    assert_error(
        await api.get("/api/v1/admin/calendar", params={"year": 1999}, headers=superadmin),
        422,
        "calendar.year_out_of_range",
    )
    assert_error(
        await api.put("/api/v1/admin/calendar/days", json={"date": "2206-03-07", "working": True}, headers=superadmin),
        422,
        "calendar.year_out_of_range",
    )
    for body in (
        {"date": "2026-02-30", "working": True},
        {"date": "2026-03-07"},
        {"date": "2026-03-07", "working": True, "x": 1},
    ):
        answer = await api.put("/api/v1/admin/calendar/days", json=body, headers=superadmin)
        assert answer.status_code == 422, answer.text
    assert (await api.delete("/api/v1/admin/calendar/days/2026-13-01", headers=superadmin)).status_code == 404
    assert await AuditEntry.filter(action="calendar.override_set").count() == before
