"""The roster of 劳模工匠: union admins keep it in their subtree (audited), caseworkers read it,
and an expert binds their WeChat account with a single-use, expiring code."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from models.accounts import StaffRole, User
from models.audit import AuditEntry
from models.errors import Conflict
from models.experts import actions
from models.experts.tables import Expert
from models.scope import StaffScope
from server.clock import now
from tests.factories.common import TEST_ACTOR, assert_error, bearer, login_staff, login_worker
from tests.factories.enterprises import bound_expert, enterprise_with_contact, expert_body, expert_on_roster
from tests.factories.unions import demo_org, make_org, make_staff


async def _admin(api: httpx.AsyncClient, org_name: str = "高明区总工会") -> tuple[str, int]:
    org = await demo_org(org_name)
    return await login_staff(api, (await make_staff(org, StaffRole.UNION_ADMIN)).username), org.id


async def test_a_union_admin_keeps_the_roster(api: httpx.AsyncClient) -> None:
    admin, org_id = await _admin(api)
    foshan = await demo_org("佛山市总工会")
    _, employer = await enterprise_with_contact(api, org_id)
    created = await expert_on_roster(
        api,
        admin,
        org_id,
        titles=["foshan_engineer", "south_guangdong_craftsman", "foshan_engineer"],
        skills=["pdca", "factory_audit"],
        regions=[org_id, foshan.id],
        employer_enterprise_id=employer["id"],
    )
    assert len(created["invite_code"]) == 8 and created["bound"] is False and created["invite_expires_at"]
    # Catalogue order, each once, with labels; regions with their names.
    assert [t["code"] for t in created["titles"]] == ["south_guangdong_craftsman", "foshan_engineer"]
    assert [s["label"] for s in created["skills"]] == ["验厂", "PDCA 循环"]
    assert [r["name"] for r in created["regions"]] == ["高明区总工会", "佛山市总工会"]
    assert created["patents"] == {"us_invention": 0, "cn_invention": 2, "utility_model": 1}
    assert created["employer_enterprise_id"] == employer["id"]
    stored = await Expert.get(id=created["id"])
    assert stored.invite_code_hash and created["invite_code"] not in stored.invite_code_hash

    path = f"/api/v1/admin/experts/{created['id']}"
    assert "invite_code" not in (await api.get(path, headers=bearer(admin))).json()
    changed = await api.put(
        path, json=expert_body(org_id, name=created["name"], years=29, max_active_orders=3), headers=bearer(admin)
    )
    assert changed.status_code == 200 and changed.json()["years"] == 29 and changed.json()["max_active_orders"] == 3
    entries = await AuditEntry.filter(object_type="expert", object_id=str(created["id"])).order_by("id")
    assert [e.action for e in entries] == ["expert.create", "expert.update"]
    assert entries[1].before["years"] == 20 and entries[1].after["years"] == 29
    assert all("invite" not in str(e.after) for e in entries)


async def test_bad_roster_input_is_refused(api: httpx.AsyncClient) -> None:
    admin, org_id = await _admin(api)
    another_city = await demo_org("中山市总工会")
    for overrides, status, code in (
        ({"regions": [org_id, another_city.id]}, 422, "expert.region_outside"),
        ({"titles": ["emperor"]}, 422, "request.invalid"),
        ({"industries": ["astrology"]}, 422, "request.invalid"),
        ({"max_active_orders": 0}, 422, "request.invalid"),
        ({"max_active_orders": 21}, 422, "request.invalid"),
        ({"regions": [2**40]}, 404, "org.not_found"),
        ({"employer_enterprise_id": 2**40}, 404, "enterprise.not_found"),
        ({"name": "  "}, 422, "expert.name_required"),
    ):
        body = {**expert_body(org_id), **overrides}
        answer = await api.post("/api/v1/admin/experts", json=body, headers=bearer(admin))
        assert_error(answer, status, code)
    assert not await Expert.exists(name=body["name"])
    # Editing is checked the same way.
    created = await expert_on_roster(api, admin, org_id)
    moved = {**expert_body(org_id, name=created["name"]), "regions": [another_city.id]}
    refused = await api.put(f"/api/v1/admin/experts/{created['id']}", json=moved, headers=bearer(admin))
    assert_error(refused, 422, "expert.region_outside")
    assert refused.json()["error"]["details"]["field"] == "regions"
    assert (await Expert.get(id=created["id"])).regions == [org_id]


async def test_subtree_and_permissions(api: httpx.AsyncClient) -> None:
    admin, org_id = await _admin(api)
    created = await expert_on_roster(api, admin, org_id)
    path = f"/api/v1/admin/experts/{created['id']}"
    # A caseworker reads the roster but cannot change it.
    caseworker = await login_staff(api, (await make_staff(await demo_org("高明区总工会"))).username)
    assert (await api.get(path, headers=bearer(caseworker))).status_code == 200
    assert_error(
        await api.post("/api/v1/admin/experts", json=expert_body(org_id), headers=bearer(caseworker)),
        403,
        "auth.role_forbidden",
    )
    assert_error(await api.put(path, json=expert_body(org_id), headers=bearer(caseworker)), 403, "auth.role_forbidden")
    assert_error(await api.post(f"{path}/invite", headers=bearer(caseworker)), 403, "auth.role_forbidden")
    # Another city's admin sees nothing of it and cannot add to a union outside their subtree.
    outsider, _ = await _admin(api, "中山市总工会")
    assert_error(await api.get(path, headers=bearer(outsider)), 404, "record.not_found")
    assert_error(await api.put(path, json=expert_body(org_id), headers=bearer(outsider)), 404, "record.not_found")
    assert_error(
        await api.post("/api/v1/admin/experts", json=expert_body(org_id), headers=bearer(outsider)),
        404,
        "org.not_found",
    )
    listed = (await api.get("/api/v1/admin/experts", params={"q": created["name"]}, headers=bearer(outsider))).json()
    assert listed["total"] == 0


async def test_roster_filters(api: httpx.AsyncClient) -> None:
    admin, _ = await _admin(api)
    branch = await make_org(await demo_org("高明区总工会"))
    welder = await expert_on_roster(api, admin, branch.id, industries=["metals"], skills=["welding"])
    coater = await expert_on_roster(api, admin, branch.id, industries=["coatings"], skills=["welding", "lean"])
    listing = "/api/v1/admin/experts"

    async def ids(**params: object) -> list[int]:
        answer = await api.get(listing, params={"org_id": branch.id, **params}, headers=bearer(admin))
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert await ids() == [coater["id"], welder["id"]]
    assert await ids(skill="welding") == [coater["id"], welder["id"]]
    assert await ids(industry="metals") == [welder["id"]]
    assert await ids(industry="coatings", skill="lean") == [coater["id"]]
    assert await ids(industry="metals", skill="lean") == []
    assert await ids(q=welder["name"]) == [welder["id"]]
    assert await ids(page_size=1, page=2) == [welder["id"]]
    assert_error(
        await api.get(listing, params={"industry": "astrology"}, headers=bearer(admin)), 422, "request.invalid"
    )


async def test_an_expert_binds_their_account_once(api: httpx.AsyncClient) -> None:
    admin, org_id = await _admin(api)
    created = await expert_on_roster(api, admin, org_id)
    token, _ = await login_worker(api)
    assert_error(await api.get("/api/v1/expert/me", headers=bearer(token)), 404, "expert.not_bound")
    typed = created["invite_code"].lower()
    claimed = await api.post("/api/v1/expert/claim", json={"invite_code": typed}, headers=bearer(token))
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["id"] == created["id"] and claimed.json()["bound"] is True
    me = (await api.get("/api/v1/me", headers=bearer(token))).json()
    assert "expert" in me["roles"] and "expert" in me["user"]["roles"]
    assert (await api.get("/api/v1/expert/me", headers=bearer(token))).json()["name"] == created["name"]

    # Single use: nobody else can claim with it; a bound expert gets no new code.
    other, _ = await login_worker(api)
    again = await api.post("/api/v1/expert/claim", json={"invite_code": created["invite_code"]}, headers=bearer(other))
    assert_error(again, 409, "expert.already_bound")
    assert "expert" not in (await api.get("/api/v1/me", headers=bearer(other))).json()["roles"]
    assert_error(
        await api.post(f"/api/v1/admin/experts/{created['id']}/invite", headers=bearer(admin)),
        409,
        "expert.already_bound",
    )
    # One account is one expert.
    second = await expert_on_roster(api, admin, org_id)
    twice = await api.post("/api/v1/expert/claim", json={"invite_code": second["invite_code"]}, headers=bearer(token))
    assert_error(twice, 409, "expert.user_already_bound")
    for code, status, error in (("AAAAAAAA", 404, "expert.invite_not_found"), ("??", 422, "expert.invite_invalid")):
        answer = await api.post("/api/v1/expert/claim", json={"invite_code": code}, headers=bearer(other))
        assert_error(answer, status, error)


async def test_a_fresh_code_voids_the_old_one(api: httpx.AsyncClient) -> None:
    admin, org_id = await _admin(api)
    created = await expert_on_roster(api, admin, org_id)
    reissued = await api.post(f"/api/v1/admin/experts/{created['id']}/invite", headers=bearer(admin))
    assert reissued.status_code == 201, reissued.text
    fresh = reissued.json()["invite_code"]
    assert fresh != created["invite_code"]
    token, _ = await login_worker(api)
    old = await api.post("/api/v1/expert/claim", json={"invite_code": created["invite_code"]}, headers=bearer(token))
    assert_error(old, 404, "expert.invite_not_found")
    new = await api.post("/api/v1/expert/claim", json={"invite_code": fresh}, headers=bearer(token))
    assert new.status_code == 200
    actions_logged = await AuditEntry.filter(object_type="expert", object_id=str(created["id"])).values_list(
        "action", flat=True
    )
    assert sorted(actions_logged) == ["expert.create", "expert.invite"]


async def test_a_code_expires_after_fourteen_days(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    issued_at = now()
    scope = StaffScope(org_id=org.id, sees_everything=False)
    expert, code = await actions.create_expert(
        scope, actions.ExpertInput(name="过期测试专家", org_id=org.id), TEST_ACTOR, issued_at
    )
    user = await User.create(openid=f"test-expert-{code}")
    with pytest.raises(Conflict) as raised:
        await actions.claim(user.id, code, issued_at + timedelta(days=14))
    assert raised.value.code == "expert.invite_expired"
    assert (await Expert.get(id=expert.id)).user_id is None
    bound = await actions.claim(user.id, code, issued_at + timedelta(days=14) - timedelta(seconds=1))
    assert bound.user_id == user.id


async def test_the_bound_expert_factory(api: httpx.AsyncClient) -> None:
    admin, org_id = await _admin(api)
    token, expert = await bound_expert(api, admin, org_id, years=7)
    assert expert["bound"] is True and expert["years"] == 7
    assert (await api.get("/api/v1/expert/me", headers=bearer(token))).json()["id"] == expert["id"]
