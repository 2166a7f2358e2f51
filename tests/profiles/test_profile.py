"""Worker profiles: validation, encryption at rest, masking, WeChat phone numbers."""

from __future__ import annotations

import httpx

from models.audit import AuditEntry
from models.profiles.identity import id_check_char
from models.profiles.tables import WorkerProfile
from server.crypto import IdCipher, Sealed
from tests.factories.common import assert_error, bearer, login_worker
from tests.factories.profiles import make_id_number, profile_body


async def test_profile_is_stored_encrypted_and_shown_masked(api: httpx.AsyncClient, stack) -> None:
    token, login = await login_worker(api)
    body = profile_body()
    answer = await api.put("/api/v1/me/profile", json=body, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["id_number"] == f"{body['id_number'][:4]}**********{body['id_number'][-4:]}"
    assert shown["phone"] == f"{body['phone'][:3]}****{body['phone'][-4:]}"
    assert shown["occupation_label"] == "外卖骑手" and shown["platform_label"] == "美团"
    # By its owner: the name and masked number of a random ID can recur among the suite's workers.
    profile = await WorkerProfile.get(user_id=login["user"]["id"])
    assert profile.id_masked == shown["id_number"]
    assert body["id_number"] not in (profile.id_ciphertext, profile.id_blind_index)
    cipher = IdCipher(stack.settings.id_encryption_keys, stack.settings.id_blind_index_key)
    assert cipher.open(profile.sealed_id(), "id_number") == body["id_number"]
    audit = await AuditEntry.filter(action="profile.save", object_id=str(profile.user_id)).first()
    assert audit is not None and body["id_number"] not in str(audit.after) and body["phone"] not in str(audit.after)
    me = (await api.get("/api/v1/me", headers=bearer(token))).json()
    assert me["profile"]["id_number"] == shown["id_number"]


async def test_bad_identity_data_is_refused_and_changes_nothing(api: httpx.AsyncClient) -> None:
    token, _ = await login_worker(api)
    good = make_id_number()
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    cases = [
        ({"id_number": wrong_check}, "profile.id_number_checksum"),
        ({"id_number": "4420001990023" + "0123"}, "profile.id_number_format"),
        ({"id_number": (lambda s: s + id_check_char(s))("44200019900230123")}, "profile.id_number_birth_date"),
        ({"id_number": (lambda s: s + id_check_char(s))("44200020990101123")}, "profile.id_number_birth_date"),
        ({"phone": "12345"}, "profile.phone_format"),
        ({"phone": "23800138000"}, "profile.phone_format"),
        ({"occupation": "astronaut"}, "catalogue.unknown_occupation"),
        ({"occupation": "other", "occupation_other": ""}, "catalogue.occupation_other_required"),
        ({"real_name": "张"}, "profile.real_name"),
    ]
    for override, code in cases:
        error = assert_error(
            await api.put("/api/v1/me/profile", json=profile_body(**override), headers=bearer(token)), 422, code
        )
        assert error["details"].get("field") or error["details"].get("choices")
    assert (await api.get("/api/v1/me", headers=bearer(token))).json()["profile"] is None


async def test_phone_from_the_wechat_button_is_verified(api: httpx.AsyncClient) -> None:
    token, _ = await login_worker(api)
    body = profile_body(phone=None, phone_code="phone:13912345678")
    shown = (await api.put("/api/v1/me/profile", json=body, headers=bearer(token))).json()
    assert shown["phone"] == "139****5678" and shown["phone_verified"] is True
    reused = await api.put("/api/v1/me/profile", json=body, headers=bearer(token))
    # 422, not 401: a 401 makes a mini-program throw away the worker's login.
    assert assert_error(reused, 422, "profile.wechat_phone_code_invalid")["details"] == {"field": "phone_code"}
    assert (await api.get("/api/v1/me", headers=bearer(token))).status_code == 200


async def test_rotated_key_still_opens_old_values(stack) -> None:
    import base64
    import os

    old = stack.settings.id_encryption_keys
    new_ring = f"k2099:{base64.b64encode(os.urandom(32)).decode()},{old}"
    before = IdCipher(old, stack.settings.id_blind_index_key)
    after = IdCipher(new_ring, stack.settings.id_blind_index_key)
    number = make_id_number()
    sealed_before = before.seal(number, "id_number")
    sealed_after = after.seal(number, "id_number")
    assert sealed_after.key_id == "k2099" and sealed_before.key_id != "k2099"
    assert after.open(sealed_before, "id_number") == number == after.open(sealed_after, "id_number")
    assert before.blind_index(number) == after.blind_index(number.lower())
    try:
        before.open(Sealed("k2099", sealed_after.ciphertext), "id_number")
    except ValueError as exc:
        assert "no longer configured" in str(exc)
    else:
        raise AssertionError("a value sealed under an unknown key must not open")
