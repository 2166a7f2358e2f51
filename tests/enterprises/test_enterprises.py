"""Registering an enterprise, inviting contacts, who sees it, and verification by its union."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from models.accounts import StaffRole, User
from models.audit import AuditEntry
from models.enterprises import actions
from models.enterprises.tables import Enterprise, EnterpriseInvitation
from models.errors import Conflict
from models.idempotency import IdempotencyRecord
from server.clock import now
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.enterprises import enterprise_body, enterprise_with_contact
from tests.factories.unions import demo_org, make_org, make_staff


async def _me(api: httpx.AsyncClient, token: str) -> dict:
    return (await api.get("/api/v1/me", headers=bearer(token))).json()


async def test_registration_makes_the_caller_a_contact(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    token, enterprise = await enterprise_with_contact(api, org.id, industry="coatings")
    assert enterprise["status"] == "pending" and enterprise["status_label"] == "待核验"
    assert enterprise["org"] == {"id": org.id, "name": "高明区总工会"}
    assert enterprise["industry_label"] == "涂料"
    assert len(enterprise["contacts"]) == 1 and enterprise["contacts"][0]["invited"] is False
    assert "enterprise_contact" in (await _me(api, token))["roles"]
    mine = (await api.get("/api/v1/me/enterprises", headers=bearer(token))).json()
    assert [item["id"] for item in mine["items"]] == [enterprise["id"]] and mine["total"] == 1


async def test_bad_input_changes_nothing(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    token, _ = await login_worker(api)
    for overrides, status, code in (
        ({"industry": "astrology"}, 422, "catalogue.unknown_industry"),
        ({"org_id": 2**40}, 404, "org.not_found"),
        ({"name": "   "}, 422, "enterprise.name_required"),
        ({"contact_phone": "call me"}, 422, "enterprise.phone_invalid"),
    ):
        answer = await api.post(
            "/api/v1/enterprises", json={**enterprise_body(org.id), **overrides}, headers=bearer(token)
        )
        assert_error(answer, status, code)
    assert (await api.get("/api/v1/me/enterprises", headers=bearer(token))).json()["total"] == 0


async def test_one_enterprise_per_credit_code(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    _, enterprise = await enterprise_with_contact(api, org.id)
    other, _ = await login_worker(api)
    again = await api.post(
        "/api/v1/enterprises",
        json=enterprise_body(org.id, credit_code=enterprise["credit_code"].lower()),
        headers=bearer(other),
    )
    error = assert_error(again, 409, "enterprise.credit_code_taken")
    assert error["details"]["enterprise_name"] == enterprise["name"] and "邀请" in error["message"]
    assert await Enterprise.filter(credit_code=enterprise["credit_code"]).count() == 1


async def test_registration_honours_the_idempotency_key(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    token, _ = await login_worker(api)
    body = enterprise_body(org.id)
    headers = {**bearer(token), "Idempotency-Key": "register-once"}
    first = await api.post("/api/v1/enterprises", json=body, headers=headers)
    second = await api.post("/api/v1/enterprises", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"] and second.headers["Idempotent-Replayed"] == "true"


async def test_an_invitation_adds_a_contact_once(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    token, enterprise = await enterprise_with_contact(api, org.id)
    path = f"/api/v1/enterprises/{enterprise['id']}"
    key = {"Idempotency-Key": f"invite-{enterprise['id']}"}
    invited = await api.post(f"{path}/invitations", headers={**bearer(token), **key})
    assert invited.status_code == 201, invited.text
    code = invited.json()["code"]
    assert len(code) == 8
    stored = await EnterpriseInvitation.filter(enterprise_id=enterprise["id"]).values_list("code_hash", flat=True)
    assert code not in stored and len(stored[0]) == 64  # only the hash is kept
    # Not in a stored answer either: the route keeps no idempotent replay (a retry makes a new code).
    assert not await IdempotencyRecord.filter(response__contains=code).exists()

    colleague, _ = await login_worker(api)
    assert_error(await api.get(path, headers=bearer(colleague)), 404, "record.not_found")
    typed = f"{code[:4].lower()}-{code[4:]}"  # as read out over the phone
    joined = await api.post("/api/v1/enterprises/join", json={"code": typed}, headers=bearer(colleague))
    assert joined.status_code == 200, joined.text
    assert [c["invited"] for c in joined.json()["contacts"]] == [False, True]
    assert (await api.get(path, headers=bearer(colleague))).status_code == 200
    assert "enterprise_contact" in (await _me(api, colleague))["roles"]

    late, _ = await login_worker(api)
    assert_error(
        await api.post("/api/v1/enterprises/join", json={"code": code}, headers=bearer(late)),
        409,
        "enterprise.invitation_used",
    )
    assert_error(await api.get(path, headers=bearer(late)), 404, "record.not_found")
    # A contact already is one; a code that was never issued, or cannot be one.
    second = (await api.post(f"{path}/invitations", headers=bearer(token))).json()["code"]
    assert_error(
        await api.post("/api/v1/enterprises/join", json={"code": second}, headers=bearer(colleague)),
        409,
        "enterprise.already_contact",
    )
    assert_error(
        await api.post("/api/v1/enterprises/join", json={"code": "AAAAAAAA"}, headers=bearer(late)),
        404,
        "enterprise.invitation_not_found",
    )
    assert_error(
        await api.post("/api/v1/enterprises/join", json={"code": "not a code"}, headers=bearer(late)),
        422,
        "enterprise.invitation_invalid",
    )


async def test_an_invitation_expires_after_seven_days(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    token, enterprise = await enterprise_with_contact(api, org.id)
    contact_id = (await _me(api, token))["user"]["id"]
    issued_at = now()
    _, code = await actions.invite(contact_id, enterprise["id"], issued_at)
    colleague = await User.create(openid=f"test-late-{code}")
    with pytest.raises(Conflict) as raised:
        await actions.join(colleague.id, code, issued_at + timedelta(days=7))
    assert raised.value.code == "enterprise.invitation_expired"
    joined = await actions.join(colleague.id, code, issued_at + timedelta(days=7) - timedelta(seconds=1))
    assert joined.id == enterprise["id"]


async def test_only_contacts_see_an_enterprise_or_invite(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    _, enterprise = await enterprise_with_contact(api, org.id)
    stranger, _ = await login_worker(api)
    path = f"/api/v1/enterprises/{enterprise['id']}"
    assert_error(await api.get(path, headers=bearer(stranger)), 404, "record.not_found")
    assert_error(await api.post(f"{path}/invitations", headers=bearer(stranger)), 404, "record.not_found")
    assert (await api.get("/api/v1/me/enterprises", headers=bearer(stranger))).json() == {"items": [], "total": 0}


async def test_verification_by_a_caseworker_of_the_subtree(api: httpx.AsyncClient) -> None:
    gaoming = await demo_org("高明区总工会")
    town = await make_org(gaoming)
    token, enterprise = await enterprise_with_contact(api, town.id)
    outsider = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
    path = f"/api/v1/admin/enterprises/{enterprise['id']}"
    assert_error(await api.post(f"{path}/verify", headers=bearer(outsider)), 404, "record.not_found")
    assert_error(await api.get(path, headers=bearer(outsider)), 404, "record.not_found")
    outside_list = (
        await api.get("/api/v1/admin/enterprises", params={"q": enterprise["credit_code"]}, headers=bearer(outsider))
    ).json()
    assert outside_list["total"] == 0

    caseworker = await login_staff(api, (await make_staff(gaoming)).username)
    pending = (
        await api.get(
            "/api/v1/admin/enterprises",
            params={"status": "pending", "q": enterprise["name"][-8:]},
            headers=bearer(caseworker),
        )
    ).json()
    assert [item["id"] for item in pending["items"]] == [enterprise["id"]]
    detail = (await api.get(path, headers=bearer(caseworker))).json()
    assert len(detail["contacts"]) == 1

    verified = await api.post(f"{path}/verify", headers=bearer(caseworker))
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    assert verified.json()["verified_at"]
    assert_error(await api.post(f"{path}/verify", headers=bearer(caseworker)), 409, "enterprise.already_verified")
    entries = await AuditEntry.filter(object_type="enterprise", object_id=str(enterprise["id"]))
    assert [e.action for e in entries] == ["enterprise.verify"]
    # The contact sees it verified; the pending list no longer has it, the verified list does.
    seen = (await api.get(f"/api/v1/enterprises/{enterprise['id']}", headers=bearer(token))).json()
    assert seen["status"] == "verified"
    by_code = {"q": enterprise["credit_code"].lower()}
    for status, expected in (("pending", []), ("verified", [enterprise["id"]])):
        listed = await api.get(
            "/api/v1/admin/enterprises", params={**by_code, "status": status}, headers=bearer(caseworker)
        )
        assert [item["id"] for item in listed.json()["items"]] == expected


async def test_orders_need_a_verified_enterprise(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    _, pending = await enterprise_with_contact(api, org.id)
    with pytest.raises(Conflict) as raised:
        actions.require_verified(await Enterprise.get(id=pending["id"]))
    assert raised.value.code == "enterprise.not_verified" and raised.value.message == "企业尚未通过工会核验"
    staff = await login_staff(api, (await make_staff(org)).username)
    _, verified = await enterprise_with_contact(api, org.id, staff_token=staff)
    assert verified["status"] == "verified"
    actions.require_verified(await Enterprise.get(id=verified["id"]))


async def test_workers_cannot_use_the_admin_routes(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    token, enterprise = await enterprise_with_contact(api, org.id)
    answer = await api.post(f"/api/v1/admin/enterprises/{enterprise['id']}/verify", headers=bearer(token))
    assert answer.status_code == 403
    admin = await login_staff(api, (await make_staff(org, StaffRole.UNION_ADMIN)).username)
    assert (await api.get("/api/v1/admin/enterprises", headers=bearer(admin))).status_code == 200
