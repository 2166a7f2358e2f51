"""Saving a worker's profile."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import User
from models.audit import Actor, record
from models.catalogue import OCCUPATIONS, PLATFORMS, check_choice
from models.errors import Conflict, Invalid
from models.profiles.identity import id_tail, mask_id_number, normalise_id_number, normalise_phone
from models.profiles.tables import ID_CONTEXT, WorkerProfile
from server.clock import now
from server.crypto import IdCipher


@dataclass(frozen=True)
class ProfileInput:
    real_name: str
    id_number: str
    occupation: str
    city: str
    phone: str | None = None
    verified_phone: str | None = None
    occupation_other: str = ""
    platform: str = "none"
    platform_other: str = ""
    district: str = ""


def _check_name(name: str) -> str:
    name = name.strip()
    if not 2 <= len(name) <= 32:
        raise Invalid("profile.real_name", "请填写 2 至 32 个字的真实姓名", {"field": "real_name"})
    return name


async def save_profile(user: User, data: ProfileInput, cipher: IdCipher, actor: Actor) -> WorkerProfile:
    id_number = normalise_id_number(data.id_number, now().date())
    if data.verified_phone:
        phone, verified = data.verified_phone, True
    elif data.phone:
        phone, verified = normalise_phone(data.phone), False
    else:
        raise Invalid("profile.phone_required", "请授权微信手机号或填写手机号码", {"field": "phone"})
    occupation, occupation_other = check_choice("occupation", data.occupation, data.occupation_other, OCCUPATIONS)
    platform, platform_other = check_choice("platform", data.platform, data.platform_other, PLATFORMS)
    if not data.city.strip():
        raise Invalid("profile.city_required", "请填写所在城市", {"field": "city"})
    blind_index = cipher.blind_index(id_number)
    existing = await WorkerProfile.get_or_none(user_id=user.id)
    if existing is not None and existing.id_blind_index != blind_index and await _identity_in_use(user.id):
        raise Conflict(
            "profile.id_number_locked", "您已入会或有正在办理的入会申请，不能更换身份证号码；如有错误请联系工会"
        )
    sealed = cipher.seal(id_number, ID_CONTEXT)
    values = {
        "real_name": _check_name(data.real_name),
        "phone": phone,
        "phone_verified": verified,
        "id_key_id": sealed.key_id,
        "id_ciphertext": sealed.ciphertext,
        "id_blind_index": blind_index,
        "id_masked": mask_id_number(id_number),
        "id_tail_key": cipher.blind_index(id_tail(id_number)),
        "occupation": occupation,
        "occupation_other": occupation_other,
        "platform": platform,
        "platform_other": platform_other,
        "city": data.city.strip()[:32],
        "district": data.district.strip()[:32],
    }
    try:
        async with in_transaction():
            profile = await WorkerProfile.get_or_none(user_id=user.id)
            if profile is None:
                profile = await WorkerProfile.create(user_id=user.id, **values)
            else:
                await profile.update_from_dict(values).save()
            after = {"id_number": profile.id_masked, "phone": profile.phone_masked, "phone_verified": verified}
            await record(actor, "profile.save", object_type="user", object_id=user.id, after=after)
    except IntegrityError:
        raise Conflict("profile.concurrent_save", "个人信息正在保存，请稍后再试") from None
    return profile


async def _identity_in_use(user_id: int) -> bool:
    """A member, or an applicant, keeps the ID number the union knows them by."""
    from models.enrolment.tables import OPEN, Enrolment
    from models.membership.tables import Membership, MembershipStatus

    return await Membership.exists(user_id=user_id, status=MembershipStatus.ACTIVE) or await Enrolment.exists(
        user_id=user_id, status__in=list(OPEN)
    )


async def real_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Workers' names (from their profiles) by user id, for the caseworkers' logs."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    return dict(await WorkerProfile.filter(user_id__in=wanted).values_list("user_id", "real_name"))
