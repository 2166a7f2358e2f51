"""Workers' demands (职工诉求): filing, anonymity to caseworkers, the subtree, replies that reach
the worker, taking up for negotiation, and the tallies."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import datetime, timedelta

import httpx

from models.accounts import User
from models.appeals.tables import Appeal
from models.audit import AuditEntry
from models.kernel.history import CaseEvent
from models.orgs import OrgType
from server.clock import SHANGHAI
from tests.factories.appeals import file_appeal
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff


async def _union_with_caseworker(api: httpx.AsyncClient, city: str = "中山市总工会") -> tuple[int, str]:
    org = await make_org(await demo_org(city), org_type=OrgType.PLATFORM)
    return org.id, await login_staff(api, (await make_staff(org)).username)


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


async def test_filing_is_validated_and_the_worker_reads_their_own(api: httpx.AsyncClient) -> None:
    org_id, _ = await _union_with_caseworker(api)
    token, _ = await login_worker(api)
    assert_error(await file_appeal(api, token, org_id, topic="astrology"), 422, "appeal.unknown_topic")
    assert_error(await file_appeal(api, token, 10**12), 404, "org.not_found")
    assert_error(await file_appeal(api, token, org_id, platform="uber"), 422, "catalogue.unknown_platform")
    assert_error(await file_appeal(api, token, org_id, platform="other"), 422, "appeal.employer_required")
    assert_error(await file_appeal(api, token, org_id, content="   "), 422, "appeal.content_required")
    assert_error(await file_appeal(api, token, None), 422, "appeal.org_required")  # not a member anywhere
    assert await Appeal.filter(org_id=org_id).count() == 0

    key = {"Idempotency-Key": uuid.uuid4().hex}
    created = await file_appeal(api, token, org_id, headers=key, topic="commission_rate", anonymous=True)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "submitted"
    again = await file_appeal(api, token, org_id, headers=key, topic="commission_rate", anonymous=True)
    assert again.json() == created.json()
    assert await Appeal.filter(org_id=org_id).count() == 1

    appeal_id = created.json()["id"]
    own = (await api.get("/api/v1/appeals", headers=bearer(token))).json()
    assert own["total"] == 1 and own["items"][0]["id"] == appeal_id
    assert own["items"][0]["topic_label"] == "抽成比例" and own["items"][0]["replies"] == []
    detail = (await api.get(f"/api/v1/appeals/{appeal_id}", headers=bearer(token))).json()
    assert detail["anonymous"] is True and detail["platform_label"] == "美团"
    stranger, _ = await login_worker(api)
    assert_error(await api.get(f"/api/v1/appeals/{appeal_id}", headers=bearer(stranger)), 404, "appeal.not_found")

    topics = {item["code"]: item for item in (await api.get("/api/v1/catalogue")).json()["appeal_topics"]}
    negotiation = {code for code, item in topics.items() if item["negotiation"]}
    assert {topics[code]["label"] for code in negotiation} == {
        "订单分配", "奖惩制度", "订单价格", "抽成比例", "配送时间", "休息", "职业保障"
    }  # fmt: skip
    assert {"劳动报酬", "工作时间", "劳动安全", "社会保险", "其他"} <= {item["label"] for item in topics.values()}


async def test_anonymous_demands_carry_nothing_that_links_to_the_worker(api: httpx.AsyncClient) -> None:
    org_id, staff = await _union_with_caseworker(api)
    real_name = "骆" + "".join(random.sample("志强伟芳娜敏静丽军磊洋勇艳杰娟涛明超秀霞", 3))
    token, profile = await worker_with_profile(api, real_name=real_name)
    me = (await api.get("/api/v1/me", headers=bearer(token))).json()
    user = await User.get(id=me["user"]["id"])
    hidden = (await file_appeal(api, token, org_id, anonymous=True)).json()["id"]
    named = (await file_appeal(api, token, org_id, anonymous=False, topic="pay")).json()["id"]

    def assert_nothing_of_the_worker(item: dict) -> None:
        text = json.dumps(item, ensure_ascii=False)
        assert item["filer"] is None
        assert not {key for key in _keys(item) if "user" in key or "openid" in key or "phone" in key}, item
        for trace in (user.openid, profile["real_name"], profile["phone"], profile["phone"][-4:]):
            assert trace not in text, (trace, text)

    listed = (await api.get("/api/v1/admin/appeals", headers=bearer(staff))).json()
    by_id = {item["id"]: item for item in listed["items"]}
    assert set(by_id) == {hidden, named}
    assert_nothing_of_the_worker(by_id[hidden])
    assert by_id[named]["filer"] == {
        "name": profile["real_name"],
        "phone": profile["phone"][:3] + "****" + profile["phone"][-4:],
    }
    assert_nothing_of_the_worker((await api.get(f"/api/v1/admin/appeals/{hidden}", headers=bearer(staff))).json())
    replied = await api.post(f"/api/v1/admin/appeals/{hidden}/reply", json={"content": "已收到"}, headers=bearer(staff))
    assert replied.status_code == 200, replied.text
    assert_nothing_of_the_worker(replied.json())
    taken = await api.post(f"/api/v1/admin/appeals/{hidden}/take-up", headers=bearer(staff))
    assert_nothing_of_the_worker(taken.json())
    # The worker still heard, but the union's delivery log does not pair them with the demand.
    inbox = (await api.get("/api/v1/me/inbox", headers=bearer(token))).json()["items"]
    assert {"appeal.reply", "appeal.take_up"} <= {item["event"] for item in inbox}
    log = (await api.get("/api/v1/admin/notifications", params={"page_size": 100}, headers=bearer(staff))).json()
    assert all(item["user_id"] != user.id for item in log["items"]), log


async def test_caseworkers_see_and_count_only_their_subtree(api: httpx.AsyncClient) -> None:
    mine, staff = await _union_with_caseworker(api)
    child = await make_org(await demo_org("中山市总工会"), org_type=OrgType.ENTERPRISE)
    other, other_staff = await _union_with_caseworker(api, "深圳市总工会")
    token, _ = await login_worker(api)
    inside = (await file_appeal(api, token, mine)).json()["id"]
    outside = (await file_appeal(api, token, other, topic="rest")).json()["id"]
    await file_appeal(api, token, child.id)  # a sibling of mine under the same city: not mine either

    for answer in (
        await api.get(f"/api/v1/admin/appeals/{outside}", headers=bearer(staff)),
        await api.post(f"/api/v1/admin/appeals/{outside}/reply", json={"content": "越权"}, headers=bearer(staff)),
        await api.post(f"/api/v1/admin/appeals/{outside}/take-up", headers=bearer(staff)),
    ):
        assert answer.status_code == 404, answer.text
    assert (await Appeal.get(id=outside)).status == "submitted"
    listed = (await api.get("/api/v1/admin/appeals", headers=bearer(staff))).json()
    assert [item["id"] for item in listed["items"]] == [inside]
    tally = (await api.get("/api/v1/admin/appeals/tally", headers=bearer(staff))).json()
    assert tally == {
        "items": [
            {
                "topic": "delivery_time",
                "topic_label": "配送时间",
                "platform": "meituan",
                "platform_label": "美团",
                "month": None,
                "count": 1,
            }
        ],
        "total": 1,
    }
    assert_error(
        await api.get("/api/v1/admin/appeals/tally", params={"org_id": other}, headers=bearer(staff)),
        404,
        "org.not_found",
    )
    theirs = (await api.get("/api/v1/admin/appeals/tally", headers=bearer(other_staff))).json()
    assert theirs["total"] == 1 and theirs["items"][0]["topic"] == "rest"


async def test_replies_reach_the_worker_and_are_audited(api: httpx.AsyncClient) -> None:
    org_id, staff = await _union_with_caseworker(api)
    token, _ = await login_worker(api)
    appeal_id = (await file_appeal(api, token, org_id)).json()["id"]
    assert_error(
        await api.post(f"/api/v1/admin/appeals/{appeal_id}/reply", json={"content": "  "}, headers=bearer(staff)),
        422,
        "appeal.content_required",
    )
    first = await api.post(
        f"/api/v1/admin/appeals/{appeal_id}/reply", json={"content": "工会将向平台反映"}, headers=bearer(staff)
    )
    assert first.status_code == 200 and first.json()["status"] == "replied", first.text
    second = await api.post(
        f"/api/v1/admin/appeals/{appeal_id}/reply", json={"content": "平台已同意协商"}, headers=bearer(staff)
    )
    assert second.json()["status"] == "replied"

    inbox = (await api.get("/api/v1/me/inbox", headers=bearer(token))).json()["items"]
    answers = [item for item in inbox if item["event"] in {"appeal.reply", "appeal.follow_up"}]
    assert sorted(item["event"] for item in answers) == ["appeal.follow_up", "appeal.reply"]
    assert any("工会将向平台反映" in item["body"] for item in answers)
    own = (await api.get(f"/api/v1/appeals/{appeal_id}", headers=bearer(token))).json()
    assert [reply["content"] for reply in own["replies"]] == ["工会将向平台反映", "平台已同意协商"]
    assert own["replies"][0]["staff_name"] == "测试工作人员"
    audited = await AuditEntry.filter(object_type="appeal", object_id=str(appeal_id)).order_by("id")
    assert [entry.action for entry in audited] == ["appeal.reply", "appeal.follow_up"]
    assert all(entry.actor_kind == "staff" and entry.org_id == org_id for entry in audited)


async def test_take_up_is_allowed_once_and_replies_continue(api: httpx.AsyncClient) -> None:
    org_id, staff = await _union_with_caseworker(api)
    token, _ = await login_worker(api)
    appeal_id = (await file_appeal(api, token, org_id, topic="order_allocation")).json()["id"]
    taken = await api.post(f"/api/v1/admin/appeals/{appeal_id}/take-up", headers=bearer(staff))
    assert taken.status_code == 200 and taken.json()["status"] == "taken_up", taken.text
    assert taken.json()["taken_up_at"]
    assert_error(
        await api.post(f"/api/v1/admin/appeals/{appeal_id}/take-up", headers=bearer(staff)),
        409,
        "appeal.invalid_transition",
    )
    later = await api.post(
        f"/api/v1/admin/appeals/{appeal_id}/reply", json={"content": "协商进展"}, headers=bearer(staff)
    )
    assert later.json()["status"] == "taken_up"
    listed = await api.get("/api/v1/admin/appeals", params={"status": "taken_up"}, headers=bearer(staff))
    assert [item["id"] for item in listed.json()["items"]] == [appeal_id]
    history = await CaseEvent.filter(case_type="appeal", case_id=appeal_id).order_by("id")
    assert [(event.action, event.to_status) for event in history] == [
        ("submit", "submitted"),
        ("take_up", "taken_up"),
        ("follow_up", "taken_up"),
    ]
    # Replied first, then taken up: also allowed.
    replied_first = (await file_appeal(api, token, org_id)).json()["id"]
    await api.post(f"/api/v1/admin/appeals/{replied_first}/reply", json={"content": "收到"}, headers=bearer(staff))
    assert (await api.post(f"/api/v1/admin/appeals/{replied_first}/take-up", headers=bearer(staff))).json()[
        "status"
    ] == "taken_up"


async def test_tally_by_topic_platform_and_month(api: httpx.AsyncClient) -> None:
    city = await demo_org("深圳市总工会")
    root = await make_org(city, org_type=OrgType.INDUSTRY)
    branch = await make_org(root, org_type=OrgType.PLATFORM)
    staff = await login_staff(api, (await make_staff(root)).username)
    filed = [
        (root.id, "delivery_time", "meituan"),
        (branch.id, "delivery_time", "meituan"),
        (branch.id, "delivery_time", "eleme"),
        (root.id, "commission_rate", "eleme"),
        (branch.id, "commission_rate", "eleme"),
        (root.id, "social_insurance", "sf_express"),
        (branch.id, "rest", "meituan"),
    ]
    for org_id, topic, platform in filed:
        token, _ = await login_worker(api)
        assert (await file_appeal(api, token, org_id, topic=topic, platform=platform)).status_code == 201
    expected = Counter((topic, platform) for _, topic, platform in filed)

    tally = (await api.get("/api/v1/admin/appeals/tally", headers=bearer(staff))).json()
    assert {(item["topic"], item["platform"]): item["count"] for item in tally["items"]} == expected
    assert tally["total"] == len(filed) and tally["items"][0]["count"] == max(expected.values())
    under_branch = (
        await api.get("/api/v1/admin/appeals/tally", params={"org_id": branch.id}, headers=bearer(staff))
    ).json()
    assert under_branch["total"] == sum(1 for org_id, _, _ in filed if org_id == branch.id)

    # One demand from last year: its own month row, and outside a window that starts this year.
    old = await Appeal.filter(org_id=root.id, topic="social_insurance").first()
    assert old is not None
    then = datetime(2025, 1, 31, 23, 30, tzinfo=SHANGHAI)
    await Appeal.filter(id=old.id).update(submitted_at=then, month="2025-01")
    this_month = datetime.now(SHANGHAI).strftime("%Y-%m")
    by_month = (await api.get("/api/v1/admin/appeals/tally", params={"group": "month"}, headers=bearer(staff))).json()
    months = Counter()
    for item in by_month["items"]:
        months[item["month"]] += item["count"]
    assert months == {this_month: len(filed) - 1, "2025-01": 1}
    assert by_month["items"][-1] == {
        "topic": "social_insurance",
        "topic_label": "社会保险",
        "platform": "sf_express",
        "platform_label": "顺丰",
        "month": "2025-01",
        "count": 1,
    }
    window = {"from": "2025-01-31", "to": "2025-01-31"}
    inside = (await api.get("/api/v1/admin/appeals/tally", params=window, headers=bearer(staff))).json()
    assert inside["total"] == 1
    after = {"from": (then + timedelta(days=1)).date().isoformat()}
    assert (await api.get("/api/v1/admin/appeals/tally", params=after, headers=bearer(staff))).json()["total"] == len(
        filed
    ) - 1
    assert_error(
        await api.get(
            "/api/v1/admin/appeals/tally", params={"from": "2025-02-01", "to": "2025-01-01"}, headers=bearer(staff)
        ),
        422,
        "appeal.bad_window",
    )
