"""The whole enrolment flow, and every way it can be refused."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.enrolment.tables import Enrolment
from models.notifications.tables import Notification, NotificationDelivery
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.enrolment import apply
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff


async def test_login_profile_apply_approve_card_verifies(api: httpx.AsyncClient) -> None:
    zhongshan_platform = await demo_org("美团中山外卖配送站点工会")
    token, body = await worker_with_profile(api)
    created = await apply(api, token, zhongshan_platform.id, note="我是美团骑手，想加入工会")
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "submitted"
    enrolment_id = created.json()["id"]

    caseworker = await make_staff(await demo_org("中山市总工会"))
    staff_token = await login_staff(api, caseworker.username)
    waiting = (
        await api.get(
            "/api/v1/admin/enrolments", params={"status": "submitted", "page_size": 100}, headers=bearer(staff_token)
        )
    ).json()
    listed = next(item for item in waiting["items"] if item["id"] == enrolment_id)
    assert listed["id_number"] == f"{body['id_number'][:4]}**********{body['id_number'][-4:]}"
    assert listed["phone"] == f"{body['phone'][:3]}****{body['phone'][-4:]}"
    assert listed["is_gig_worker"] is True and listed["occupation_label"] == "外卖骑手"

    assert (await api.get("/api/v1/me/membership", headers=bearer(token))).status_code == 404
    approved = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
    assert approved.status_code == 200, approved.text
    assert [step["to_status"] for step in approved.json()["history"]] == ["submitted", "approved"]

    membership = (await api.get("/api/v1/me/membership", headers=bearer(token))).json()
    assert membership["member_no"].startswith("4420002")
    assert membership["org"]["name"] == "美团中山外卖配送站点工会"
    card = membership["card"]
    assert card["holder"] == "张*英"
    verdict = (await api.post("/api/v1/member-cards/verify", json={"payload": card["qr_payload"]})).json()
    assert verdict == {
        "valid": True,
        "code": "card.valid",
        "message": "会员卡有效",
        "holder": "张*英",
        "org_name": "美团中山外卖配送站点工会",
        "expires_at": verdict["expires_at"],
    }
    assert body["id_number"] not in str(verdict) and body["phone"] not in str(verdict)

    me = (await api.get("/api/v1/me", headers=bearer(token))).json()
    assert me["membership"]["member_no"] == membership["member_no"]
    events = await Notification.filter(object_type="enrolment", object_id=str(enrolment_id)).order_by("id")
    assert [event.event for event in events] == ["enrolment.submitted", "enrolment.approved"]
    assert membership["member_no"] in events[1].body
    assert await NotificationDelivery.filter(notification_id=events[1].id).count() == 1
    assert await AuditEntry.exists(action="enrolment.approve", object_id=str(enrolment_id), actor_id=caseworker.id)


async def test_org_that_does_not_accept_members(api: httpx.AsyncClient) -> None:
    token, _ = await worker_with_profile(api)
    city = await demo_org("中山市总工会")
    assert_error(await apply(api, token, city.id), 422, "enrolment.org_not_accepting")
    assert_error(await apply(api, token, 987654321), 404, "org.not_found")


async def test_profile_is_needed_first(api: httpx.AsyncClient) -> None:
    token, _ = await login_worker(api)
    org = await demo_org("中山市新就业形态劳动者工会联合会")
    assert_error(await apply(api, token, org.id), 422, "enrolment.profile_required")


async def test_same_person_on_two_wechat_accounts_is_one_person(api: httpx.AsyncClient) -> None:
    org = await demo_org("中山市新就业形态劳动者工会联合会")
    first, body = await worker_with_profile(api)
    second, _ = await worker_with_profile(api, id_number=body["id_number"].lower())
    assert (await apply(api, first, org.id)).status_code == 201
    assert_error(await apply(api, second, org.id), 409, "enrolment.open_exists")


async def test_member_cannot_apply_again(api: httpx.AsyncClient) -> None:
    org = await demo_org("中山市新就业形态劳动者工会联合会")
    token, body = await worker_with_profile(api)
    enrolment_id = (await apply(api, token, org.id)).json()["id"]
    staff_token = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
    assert (
        await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
    ).status_code == 200
    assert_error(await apply(api, token, org.id), 409, "enrolment.already_member")
    other_account, _ = await worker_with_profile(api, id_number=body["id_number"])
    assert_error(await apply(api, other_account, org.id), 409, "enrolment.already_member")


async def test_racing_submissions_give_one_201_and_one_409(api: httpx.AsyncClient) -> None:
    org = await demo_org("火炬开发区总工会")
    first, body = await worker_with_profile(api)
    second, _ = await worker_with_profile(api, id_number=body["id_number"])
    answers = await asyncio.gather(*(apply(api, token, org.id) for token in (first, second, first, second)))
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409]
    masked = f"{body['id_number'][:4]}**********{body['id_number'][-4:]}"
    assert await Enrolment.filter(org_id=org.id, id_masked=masked).count() == 1


async def test_idempotency_key_replays_the_first_answer(api: httpx.AsyncClient) -> None:
    org = await demo_org("雷州市总工会")
    token, _ = await worker_with_profile(api)
    key = {"Idempotency-Key": uuid.uuid4().hex, **bearer(token)}
    first = await api.post("/api/v1/enrolments", json={"org_id": org.id}, headers=key)
    again = await api.post("/api/v1/enrolments", json={"org_id": org.id}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert await Enrolment.filter(id=first.json()["id"]).count() == 1
    other_body = await api.post("/api/v1/enrolments", json={"org_id": org.id, "note": "x"}, headers=key)
    assert_error(other_body, 422, "idempotency.key_reused")


async def test_applicant_withdraws_and_can_apply_again(api: httpx.AsyncClient) -> None:
    org = await demo_org("徐闻县总工会")
    token, _ = await worker_with_profile(api)
    enrolment_id = (await apply(api, token, org.id)).json()["id"]
    withdrawn = await api.post(f"/api/v1/enrolments/{enrolment_id}/withdraw", headers=bearer(token))
    assert withdrawn.json()["status"] == "withdrawn"
    assert_error(
        await api.post(f"/api/v1/enrolments/{enrolment_id}/withdraw", headers=bearer(token)),
        409,
        "enrolment.invalid_transition",
    )
    assert (await apply(api, token, org.id)).status_code == 201


async def test_return_resubmit_then_reject_with_reason(api: httpx.AsyncClient) -> None:
    org = await demo_org("湛江市货车司机工会")
    token, _ = await worker_with_profile(api, occupation="truck_driver", platform="huolala")
    enrolment_id = (await apply(api, token, org.id)).json()["id"]
    staff_token = await login_staff(api, (await make_staff(await demo_org("湛江市总工会"))).username)
    url = f"/api/v1/admin/enrolments/{enrolment_id}"
    assert_error(
        await api.post(f"{url}/reject", json={"reason": ""}, headers=bearer(staff_token)), 422, "request.invalid"
    )
    returned = await api.post(f"{url}/return", json={"reason": "请补充从业证明"}, headers=bearer(staff_token))
    assert returned.json()["status"] == "returned" and returned.json()["reason"] == "请补充从业证明"
    assert_error(await api.post(f"{url}/approve", headers=bearer(staff_token)), 409, "enrolment.invalid_transition")
    resubmitted = await api.post(
        f"/api/v1/enrolments/{enrolment_id}/resubmit", json={"note": "已补充"}, headers=bearer(token)
    )
    assert resubmitted.json()["status"] == "resubmitted"
    rejected = await api.post(f"{url}/reject", json={"reason": "不在本会服务范围"}, headers=bearer(staff_token))
    assert rejected.json()["status"] == "rejected"
    own = (await api.get(f"/api/v1/enrolments/{enrolment_id}", headers=bearer(token))).json()
    assert [step["action"] for step in own["history"]] == ["submit", "return", "resubmit", "reject"]
    assert own["reason"] == "不在本会服务范围"
    titles = [
        n.title for n in await Notification.filter(object_id=str(enrolment_id), object_type="enrolment").order_by("id")
    ]
    assert titles == ["入会申请已提交", "入会申请需补充材料", "入会申请已重新提交", "入会申请未通过"]


async def test_caseworker_outside_the_subtree_gets_404(api: httpx.AsyncClient) -> None:
    zhongshan_org = await demo_org("东区街道总工会")
    token, _ = await worker_with_profile(api)
    enrolment_id = (await apply(api, token, zhongshan_org.id)).json()["id"]
    shenzhen = await login_staff(
        api, (await make_staff(await demo_org("深圳市总工会"), StaffRole.UNION_ADMIN)).username
    )
    for method, path in [("get", ""), ("post", "/approve"), ("post", "/reveal-id")]:
        answer = await api.request(method, f"/api/v1/admin/enrolments/{enrolment_id}{path}", headers=bearer(shenzhen))
        assert_error(answer, 404, "record.not_found")
    listed = (await api.get("/api/v1/admin/enrolments", params={"page_size": 100}, headers=bearer(shenzhen))).json()
    assert enrolment_id not in [item["id"] for item in listed["items"]]
    assert (await Enrolment.get(id=enrolment_id)).status == "submitted"


async def test_other_workers_enrolments_are_404(api: httpx.AsyncClient) -> None:
    token, _ = await worker_with_profile(api)
    enrolment_id = (await apply(api, token, (await demo_org("雷州市总工会")).id)).json()["id"]
    stranger, _ = await login_worker(api)
    assert_error(
        await api.get(f"/api/v1/enrolments/{enrolment_id}", headers=bearer(stranger)), 404, "enrolment.not_found"
    )
    assert_error(
        await api.post(f"/api/v1/enrolments/{enrolment_id}/withdraw", headers=bearer(stranger)),
        404,
        "enrolment.not_found",
    )


async def test_reveal_full_id_is_audited(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("高明区总工会"))
    token, body = await worker_with_profile(api)
    enrolment_id = (await apply(api, token, org.id)).json()["id"]
    admin = await make_staff(await demo_org("高明区总工会"), StaffRole.UNION_ADMIN)
    staff_token = await login_staff(api, admin.username)
    revealed = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/reveal-id", headers=bearer(staff_token))
    assert revealed.json() == {"id_number": body["id_number"]}
    assert revealed.headers["cache-control"] == "no-store"
    entry = await AuditEntry.get(action="enrolment.reveal_id", object_id=str(enrolment_id))
    assert entry.actor_id == admin.id and body["id_number"] not in str(entry.after)


async def test_filters_search_and_batch_approve(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("佛山市总工会"))
    staff_token = await login_staff(api, (await make_staff(org)).username)
    ids = []
    for name, occupation in [("李小龙", "courier"), ("王芳芳", "factory_worker"), ("李四海", "delivery_rider")]:
        token, _ = await worker_with_profile(api, real_name=name, occupation=occupation, platform="none")
        ids.append((await apply(api, token, org.id)).json()["id"])
    search = (
        await api.get("/api/v1/admin/enrolments", params={"q": "李", "sort": "name"}, headers=bearer(staff_token))
    ).json()
    assert [item["real_name"] for item in search["items"]] == ["李四海", "李小龙"]
    gig = (
        await api.get("/api/v1/admin/enrolments", params={"is_gig_worker": "false"}, headers=bearer(staff_token))
    ).json()
    assert [item["real_name"] for item in gig["items"]] == ["王芳芳"]
    batch = await api.post(
        "/api/v1/admin/enrolments/batch-approve", json={"ids": [*ids, 999999999]}, headers=bearer(staff_token)
    )
    results = batch.json()["results"]
    assert [r["ok"] for r in results] == [True, True, True, False] and results[3]["code"] == "record.not_found"
    approved = (
        await api.get("/api/v1/admin/enrolments", params={"status": "approved"}, headers=bearer(staff_token))
    ).json()
    assert approved["total"] == 3
