"""The review queues at an instant (pending counts resubmitted applications, overdue is pending
for more than three days), batch decisions one by one, and finding an applicant or member by a
phone or ID-number tail without decrypting anything."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from tortoise import connections

from models.audit import Actor
from models.enrolment.actions import decide_each
from models.enrolment.queries import EnrolmentQueue, reviewable_enrolments
from models.enrolment.tables import Enrolment, EnrolmentStatus
from models.membership.tables import Membership
from models.orgs import Org
from models.profiles.id_tails import fill_id_tail_keys
from models.profiles.identity import searched_tail
from models.profiles.tables import WorkerProfile
from models.scope import StaffScope
from server.clock import now
from server.crypto import IdCipher
from tests.factories.common import bearer, login_staff, unique
from tests.factories.enrolment import applicant
from tests.factories.profiles import make_id_number, make_phone
from tests.factories.unions import demo_org, make_org, make_staff

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


async def _union(api: httpx.AsyncClient) -> tuple[Org, str]:
    org = await make_org(await demo_org("中山市总工会"), name=unique("队列测试工会"))
    staff_token = await login_staff(api, (await make_staff(org)).username)
    return org, staff_token


async def _caseworker_of(org: Org) -> Actor:
    staff = await make_staff(org)
    return Actor("staff", staff.id, staff.display_name)


async def _applied(api: httpx.AsyncClient, org: Org, submitted: datetime | None = None, **profile: object) -> int:
    _, _, enrolment_id = await applicant(api, org_name=org.name, consents=0, **profile)
    if submitted is not None:
        await Enrolment.filter(id=enrolment_id).update(submitted_at=submitted)
    return enrolment_id


async def _ids(scope: StaffScope, queue: EnrolmentQueue, at: datetime) -> set[int]:
    return set(await reviewable_enrolments(scope, queue=queue, at=at).values_list("id", flat=True))


async def test_pending_and_overdue_at_an_instant(api: httpx.AsyncClient) -> None:
    org, staff_token = await _union(api)
    moment = now()
    fresh = await _applied(api, org)
    old = await _applied(api, org, moment - timedelta(days=4))
    token, _, resubmitted = await applicant(api, org_name=org.name, consents=0)
    url = f"/api/v1/admin/enrolments/{resubmitted}"
    assert (await api.post(f"{url}/return", json={"reason": "请补充"}, headers=bearer(staff_token))).status_code == 200
    again = await api.post(f"/api/v1/enrolments/{resubmitted}/resubmit", json={"note": "已补"}, headers=bearer(token))
    assert again.json()["status"] == "resubmitted"
    await Enrolment.filter(id=resubmitted).update(submitted_at=moment - timedelta(days=5))
    decided = await _applied(api, org)
    assert (await api.post(f"/api/v1/admin/enrolments/{decided}/approve", headers=bearer(staff_token))).is_success

    scope = StaffScope(org_id=org.id, sees_everything=False)
    assert await _ids(scope, EnrolmentQueue.PENDING, moment) == {fresh, old, resubmitted}
    assert await _ids(scope, EnrolmentQueue.OVERDUE, moment) == {old, resubmitted}
    # The same rows at other instants: a day earlier only the five-day-old one was overdue; three
    # days on, the fresh one is too.
    assert await _ids(scope, EnrolmentQueue.OVERDUE, moment - timedelta(days=1, minutes=30)) == {resubmitted}
    assert await _ids(scope, EnrolmentQueue.OVERDUE, moment + timedelta(days=3, hours=1)) == {fresh, old, resubmitted}
    # Pending needs no instant; overdue cannot be decided without one.
    assert {e.id for e in await reviewable_enrolments(scope, queue=EnrolmentQueue.PENDING)} == {fresh, old, resubmitted}
    with pytest.raises(ValueError):
        reviewable_enrolments(scope, queue=EnrolmentQueue.OVERDUE)

    # The API's list is the same query: a status beside a queue selects within it.
    listed = {}
    for query in ("queue=pending", "queue=overdue", "queue=pending&status=submitted", "status=submitted"):
        answer = await api.get(f"/api/v1/admin/enrolments?org_id={org.id}&{query}", headers=bearer(staff_token))
        listed[query] = {item["id"] for item in answer.json()["items"]}
    assert listed["queue=pending"] == {fresh, old, resubmitted}
    assert listed["queue=overdue"] == {old, resubmitted}
    assert listed["queue=pending&status=submitted"] == listed["status=submitted"] == {fresh, old}


async def test_batch_decisions_go_one_by_one(api: httpx.AsyncClient) -> None:
    org, staff_token = await _union(api)
    first, second, decided = [await _applied(api, org) for _ in range(3)]
    assert (await api.post(f"/api/v1/admin/enrolments/{decided}/approve", headers=bearer(staff_token))).is_success
    elsewhere = await _applied(api, await demo_org("湛江市货车司机工会"), occupation="truck_driver", platform="huolala")
    scope, actor = StaffScope(org_id=org.id, sees_everything=False), await _caseworker_of(org)

    outcomes = await decide_each(scope, [first, decided, second, elsewhere, first], "return", "请补充", actor)
    assert [(o.enrolment_id, o.error.code if o.error else None) for o in outcomes] == [
        (first, None),
        (decided, "enrolment.invalid_transition"),
        (second, None),
        (elsewhere, "record.not_found"),
    ]
    statuses = dict(await Enrolment.filter(id__in=[first, second, elsewhere]).values_list("id", "status"))
    assert statuses == {first: "returned", second: "returned", elsewhere: "submitted"}
    third = await _applied(api, org)
    blank = await decide_each(scope, [third], "reject", " ", actor)
    assert blank[0].error is not None and blank[0].error.status == 422
    assert (await Enrolment.get(id=third)).status == EnrolmentStatus.SUBMITTED


def test_what_counts_as_a_tail() -> None:
    assert searched_tail("１２３４") == "1234"
    assert searched_tail(" 12345x ") == "12345X"
    assert searched_tail("123X") == "123X"
    assert [searched_tail(text) for text in ("123", "1234567", "12X4", "X123", "张三", "٤٤٤٤")] == [None] * 6


async def test_find_an_applicant_and_member_by_phone_or_id_tail(api: httpx.AsyncClient) -> None:
    org, staff_token = await _union(api)
    number = next(n for n in iter(make_id_number, None) if n.endswith("X"))
    phone = make_phone()
    name = unique("尾号")[:12]
    wanted = await _applied(api, org, real_name=name, id_number=number, phone=phone)
    other = await _applied(api, org)

    async def found(q: str) -> set[int]:
        answer = await api.get(
            "/api/v1/admin/enrolments", params={"org_id": org.id, "q": q}, headers=bearer(staff_token)
        )
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["items"]}

    for q in (number[-4:], number[-5:], number[-6:], number[-6:].translate(FULL_WIDTH), number, number.lower()):
        assert wanted in await found(q), q
    for q in (phone[-4:], phone[-6:], phone, phone.translate(FULL_WIDTH), name):
        assert wanted in await found(q), q
    assert await found(number[-6:]) == {wanted}  # six characters ending in X: an ID tail, no phone
    assert other not in await found(number[-5:])

    assert (await api.post(f"/api/v1/admin/enrolments/{wanted}/approve", headers=bearer(staff_token))).is_success
    for q in (number[-4:], number[-6:], phone[-4:]):
        members = await api.get("/api/v1/admin/members", params={"org_id": org.id, "q": q}, headers=bearer(staff_token))
        assert [item["real_name"] for item in members.json()["items"]] == [name], q


async def test_rows_stored_before_the_tail_index_get_one(api: httpx.AsyncClient, stack) -> None:
    org, staff_token = await _union(api)
    wanted = await _applied(api, org)
    assert (await api.post(f"/api/v1/admin/enrolments/{wanted}/approve", headers=bearer(staff_token))).is_success
    enrolment = await Enrolment.get(id=wanted)
    keys = {
        "enrolment": enrolment.id_tail_key,
        "profile": (await WorkerProfile.get(user_id=enrolment.user_id)).id_tail_key,
        "membership": (await Membership.get(enrolment_id=wanted)).id_tail_key,
    }
    assert len(set(keys.values())) == 1 and keys["enrolment"]
    await Enrolment.filter(id=wanted).update(id_tail_key="")
    await WorkerProfile.filter(user_id=enrolment.user_id).update(id_tail_key="")
    await Membership.filter(enrolment_id=wanted).update(id_tail_key="")

    cipher = IdCipher(stack.settings.id_encryption_keys, stack.settings.id_blind_index_key)
    filled = await fill_id_tail_keys(connections.get("default"), cipher)
    assert filled["enrolments"] >= 1 and filled["worker_profiles"] >= 1 and filled["memberships"] >= 1
    assert (await Enrolment.get(id=wanted)).id_tail_key == keys["enrolment"]
    assert (await WorkerProfile.get(user_id=enrolment.user_id)).id_tail_key == keys["profile"]
    assert (await Membership.get(enrolment_id=wanted)).id_tail_key == keys["membership"]
    assert (await fill_id_tail_keys(connections.get("default"), cipher)).total() == 0
