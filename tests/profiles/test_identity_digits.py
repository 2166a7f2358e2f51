"""Identity values are ASCII after NFKC: full-width digits are the same person, other scripts'
digits are refused, and rows stored before the rule are repaired."""

from __future__ import annotations

import uuid

import httpx
from tortoise import connections

from models.audit import AuditEntry
from models.membership.tables import MemberNumberSequence
from models.orgs import Org
from models.profiles.identity_repair import repair_stored_identities
from models.profiles.tables import ID_CONTEXT, WorkerProfile
from server.crypto import IdCipher
from tests.conftest import Stack
from tests.factories.common import assert_error, bearer, login_worker
from tests.factories.enrolment import apply
from tests.factories.profiles import make_id_number, make_phone, worker_with_profile
from tests.factories.unions import demo_org, make_org

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def cipher_of(stack: Stack) -> IdCipher:
    return IdCipher(stack.settings.id_encryption_keys, stack.settings.id_blind_index_key)


async def test_full_width_digits_are_the_same_person(api: httpx.AsyncClient) -> None:
    number, phone = make_id_number(), make_phone()
    typed = number[0].translate(FULL_WIDTH) + number[1:]  # the example: a full-width first digit
    token, _ = await worker_with_profile(api, id_number=typed, phone=phone.translate(FULL_WIDTH))
    me = (await api.get("/api/v1/me", headers=bearer(token))).json()
    assert me["profile"]["id_number"] == f"{number[:4]}**********{number[-4:]}"
    assert me["profile"]["phone"] == f"{phone[:3]}****{phone[-4:]}"
    org = await demo_org("中山市新就业形态劳动者工会联合会")
    assert (await apply(api, token, org.id)).status_code == 201
    twin, _ = await worker_with_profile(api, id_number=number)
    assert_error(await apply(api, twin, org.id), 409, "enrolment.open_exists")


async def test_digits_of_other_scripts_are_refused_and_change_nothing(api: httpx.AsyncClient) -> None:
    token, body = await worker_with_profile(api)
    for field, value in (
        ("id_number", make_id_number().translate(ARABIC_INDIC)),
        ("id_number", "44030019900101123²"),
        ("phone", make_phone().translate(ARABIC_INDIC)),
    ):
        answer = await api.put("/api/v1/me/profile", json={**body, field: value}, headers=bearer(token))
        assert answer.status_code == 422, (field, value, answer.text)
        assert answer.json()["error"]["details"]["field"] == field
    me = (await api.get("/api/v1/me", headers=bearer(token))).json()
    assert me["profile"]["id_number"].endswith(body["id_number"][-4:])


async def test_stored_rows_from_before_the_rule_are_repaired(stack: Stack, api: httpx.AsyncClient) -> None:
    cipher = cipher_of(stack)
    number, phone = make_id_number(), make_phone()
    _, login = await login_worker(api)
    typed = number.translate(FULL_WIDTH)
    sealed = cipher.seal(typed, ID_CONTEXT)
    planted = await WorkerProfile.create(
        user_id=login["user"]["id"],
        real_name="旧数据",
        phone=phone.translate(FULL_WIDTH),
        id_key_id=sealed.key_id,
        id_ciphertext=sealed.ciphertext,
        id_blind_index=cipher.blind_index(typed),
        id_masked=typed[:4] + "*" * 10 + typed[-4:],
        occupation="courier",
        city="中山市",
    )
    org = await make_org(await demo_org("中山市总工会"))
    await Org.filter(id=org.id).update(region_code="４４２０００")
    prefix = f"９{uuid.uuid4().int % 10**9:09d}"  # a member-number prefix built from such a code
    sequence = await MemberNumberSequence.create(prefix=prefix, last_value=3)

    report = await repair_stored_identities(connections.get("default"), cipher)

    repaired = await WorkerProfile.get(id=planted.id)
    assert repaired.id_blind_index == cipher.blind_index(number)
    assert cipher.open(repaired.sealed_id(), ID_CONTEXT) == number
    assert repaired.id_masked == f"{number[:4]}**********{number[-4:]}" and repaired.phone == phone
    assert (await Org.get(id=org.id)).region_code == "442000"
    assert (await MemberNumberSequence.get(id=sequence.id)).prefix == "9" + prefix[1:]
    assert report.people_rekeyed >= 1 and report.fixed["phone"] >= 1 and report.fixed["region_code"] >= 1
    again = await repair_stored_identities(connections.get("default"), cipher)
    assert (again.people_rekeyed, sum(again.fixed.values())) == (0, 0)


async def test_a_stored_twin_is_left_for_review(stack: Stack, api: httpx.AsyncClient) -> None:
    cipher = cipher_of(stack)
    number = make_id_number()
    await worker_with_profile(api, id_number=number)  # the person as the ASCII rule stores them
    _, login = await login_worker(api)
    typed = number.translate(FULL_WIDTH)
    sealed = cipher.seal(typed, ID_CONTEXT)
    twin = await WorkerProfile.create(
        user_id=login["user"]["id"],
        real_name="旧数据",
        phone=make_phone(),
        id_key_id=sealed.key_id,
        id_ciphertext=sealed.ciphertext,
        id_blind_index=cipher.blind_index(typed),
        id_masked=typed[:4] + "*" * 10 + typed[-4:],
        occupation="courier",
        city="中山市",
    )

    report = await repair_stored_identities(connections.get("default"), cipher)

    assert f"worker_profiles:{twin.id}" in report.needs_review
    assert (await WorkerProfile.get(id=twin.id)).id_blind_index == cipher.blind_index(typed)
    entry = await AuditEntry.get(action="identity.needs_review", object_type="worker_profiles", object_id=str(twin.id))
    assert entry.after == {"why": "the ASCII form of this ID number is already registered"}
    await repair_stored_identities(connections.get("default"), cipher)  # again: no second entry for it
    assert await AuditEntry.filter(action="identity.needs_review", object_id=str(twin.id)).count() == 1
