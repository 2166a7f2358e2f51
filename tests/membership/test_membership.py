"""Membership after approval: cards, transfers, withdrawals, and the figures of a subtree."""

from __future__ import annotations

import asyncio

import httpx

from models.accounts import StaffRole
from models.catalogue import OCCUPATIONS
from models.membership.card import issue_card
from models.membership.tables import Membership
from models.orgs import Org, OrgType
from server.crypto import CardSigner
from tests.factories.common import assert_error, bearer, login_staff
from tests.factories.enrolment import apply
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff


async def enrol(api: httpx.AsyncClient, org: Org, staff_token: str, **profile: object) -> str:
    token, _ = await worker_with_profile(api, **profile)
    enrolment_id = (await apply(api, token, org.id)).json()["id"]
    answer = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
    assert answer.status_code == 200, answer.text
    return token


async def test_forged_expired_and_lapsed_cards_are_refused(api: httpx.AsyncClient, stack) -> None:
    org = await demo_org("荷城街道总工会")
    staff_token = await login_staff(api, (await make_staff(await demo_org("高明区总工会"))).username)
    token = await enrol(api, org, staff_token)
    card = (await api.get("/api/v1/me/membership", headers=bearer(token))).json()["card"]
    body, _, signature = card["qr_payload"].partition(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + signature
    verdict = (await api.post("/api/v1/member-cards/verify", json={"payload": tampered})).json()
    assert verdict["valid"] is False and verdict["code"] == "card.forged"
    other_key = CardSigner("b3RoZXItc2lnbmluZy1rZXktMzItYnl0ZXMtbG9uZyE=")
    membership = await Membership.get(member_no=card["member_no"])
    foreign = issue_card(other_key, membership, org, 3600)["qr_payload"]
    assert (await api.post("/api/v1/member-cards/verify", json={"payload": foreign})).json()["code"] == "card.forged"
    expired = issue_card(CardSigner(stack.settings.member_card_signing_key), membership, org, -5)["qr_payload"]
    assert (await api.post("/api/v1/member-cards/verify", json={"payload": expired})).json()["code"] == "card.expired"
    assert (await api.post("/api/v1/member-cards/verify", json={"payload": "garbage"})).json()["valid"] is False
    key = (await api.get("/api/v1/member-cards/public-key")).json()
    assert (
        key["algorithm"] == "Ed25519"
        and key["public_key"] == CardSigner(stack.settings.member_card_signing_key).public_key_base64
    )


async def test_transfer_is_reviewed_by_the_receiving_union(api: httpx.AsyncClient) -> None:
    source = await make_org(await demo_org("中山市总工会"))
    target = await make_org(await demo_org("深圳市总工会"))
    zhongshan = await login_staff(api, (await make_staff(source)).username)
    shenzhen = await login_staff(api, (await make_staff(await demo_org("深圳市总工会"))).username)
    token = await enrol(api, source, zhongshan)
    first_no = (await api.get("/api/v1/me/membership", headers=bearer(token))).json()["member_no"]
    change = await api.post(
        "/api/v1/me/membership/transfer", json={"org_id": target.id, "reason": "工作调动"}, headers=bearer(token)
    )
    assert change.status_code == 201, change.text
    change_id = change.json()["id"]
    assert_error(
        await api.post("/api/v1/me/membership/withdrawal", json={}, headers=bearer(token)),
        409,
        "membership.change_open",
    )
    assert_error(
        await api.post(f"/api/v1/admin/membership-changes/{change_id}/approve", json={}, headers=bearer(zhongshan)),
        404,
        "record.not_found",
    )
    listed = (await api.get("/api/v1/admin/membership-changes", headers=bearer(shenzhen))).json()
    assert change_id in [item["id"] for item in listed["items"]]
    approved = await api.post(
        f"/api/v1/admin/membership-changes/{change_id}/approve", json={}, headers=bearer(shenzhen)
    )
    assert approved.json()["status"] == "approved"
    now_member = (await api.get("/api/v1/me/membership", headers=bearer(token))).json()
    assert now_member["org"]["id"] == target.id and now_member["member_no"] != first_no
    assert now_member["member_no"].startswith("440300")
    history = await Membership.filter(member_no__in=[first_no, now_member["member_no"]]).order_by("id")
    assert [m.status for m in history] == ["transferred", "active"] and history[1].previous_id == history[0].id


async def test_withdrawal_is_reviewed_by_the_current_union(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("湛江市总工会"))
    staff_token = await login_staff(api, (await make_staff(org)).username)
    token = await enrol(api, org, staff_token)
    change_id = (
        await api.post("/api/v1/me/membership/withdrawal", json={"reason": "离开本地"}, headers=bearer(token))
    ).json()["id"]
    reject = f"/api/v1/admin/membership-changes/{change_id}/reject"
    assert_error(await api.post(reject, json={}, headers=bearer(staff_token)), 422, "request.invalid")
    assert_error(
        await api.post(reject, json={"reason": "  "}, headers=bearer(staff_token)), 422, "membership.reason_required"
    )
    approved = await api.post(
        f"/api/v1/admin/membership-changes/{change_id}/approve", json={}, headers=bearer(staff_token)
    )
    assert approved.json()["status"] == "approved"
    assert_error(await api.get("/api/v1/me/membership", headers=bearer(token)), 404, "membership.not_found")
    assert_error(
        await api.post(f"/api/v1/admin/membership-changes/{change_id}/approve", json={}, headers=bearer(staff_token)),
        409,
        "membership.change_decided",
    )


async def test_figures_roll_up_and_stay_right_under_concurrent_approvals(api: httpx.AsyncClient) -> None:
    district = await make_org(await demo_org("中山市总工会"), org_type=OrgType.DISTRICT, accepts_members=False)
    towns = [await make_org(district, org_type=OrgType.TOWN) for _ in range(2)]
    admin_token = await login_staff(api, (await make_staff(district, StaffRole.UNION_ADMIN)).username)
    before_city = (await api.get("/api/v1/admin/stats", headers=bearer(admin_token))).json()
    assert before_city["member_count"] == 0 and before_city["org_count"] == 3
    workers = [
        ("delivery_rider", "meituan"),
        ("courier", "sf_express"),
        ("factory_worker", "none"),
        ("delivery_rider", "eleme"),
        ("delivery_rider", "meituan"),
        ("courier", "jd"),
    ]
    enrolment_ids = []
    for n, (occupation, platform) in enumerate(workers):
        token, _ = await worker_with_profile(api, occupation=occupation, platform=platform)
        enrolment_ids.append((await apply(api, token, towns[n % 2].id)).json()["id"])
    answers = await asyncio.gather(
        *(api.post(f"/api/v1/admin/enrolments/{i}/approve", headers=bearer(admin_token)) for i in enrolment_ids)
    )
    assert [answer.status_code for answer in answers] == [200] * len(workers)
    figures = (await api.get("/api/v1/admin/stats", params={"org_id": district.id}, headers=bearer(admin_token))).json()
    assert (figures["member_count"], figures["gig_member_count"]) == (6, 5)
    by_occupation = {row["code"]: row["members"] for row in figures["by_occupation"]}
    assert by_occupation == {"delivery_rider": 3, "courier": 2, "factory_worker": 1}
    assert figures["by_occupation"][0]["label"] == OCCUPATIONS["delivery_rider"]
    assert {row["code"]: row["members"] for row in figures["by_platform"]}["meituan"] == 2
    town = (await api.get("/api/v1/admin/stats", params={"org_id": towns[0].id}, headers=bearer(admin_token))).json()
    assert town["member_count"] == 3 and town["org_count"] == 1
    members = (
        await api.get("/api/v1/admin/members", params={"org_id": district.id}, headers=bearer(admin_token))
    ).json()
    assert members["total"] == 6 and len({m["member_no"] for m in members["items"]}) == 6
    assert all("*" in m["id_number"] and "*" in m["phone"] for m in members["items"])
    outside = await api.get(
        "/api/v1/admin/stats", params={"org_id": (await demo_org("深圳市总工会")).id}, headers=bearer(admin_token)
    )
    assert_error(outside, 404, "org.not_found")
