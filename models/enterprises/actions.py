"""What changes enterprises: a worker registers one and becomes its contact, a contact invites
colleagues, a caseworker of its union verifies it (audited)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import UserRole, grant_role
from models.audit import Actor, record
from models.catalogue import INDUSTRIES
from models.enterprises.credit_code import normalise_credit_code
from models.enterprises.queries import contact_scope
from models.enterprises.tables import Enterprise, EnterpriseContact, EnterpriseInvitation, EnterpriseStatus
from models.errors import Conflict, Invalid, NotFound
from models.invite_codes import code_hash, new_code, normalise_code
from models.orgs import Org
from models.profiles.identity import ascii_form
from models.scope import StaffScope

INVITATION_DAYS = 7
_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,18}$")


@dataclass(frozen=True)
class EnterpriseInput:
    name: str
    credit_code: str
    industry: str
    org_id: int
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""


def _clean(data: EnterpriseInput) -> dict[str, object]:
    """The enterprise's columns from a worker's input, or `Invalid` naming the field."""
    name = data.name.strip()
    if not name:
        raise Invalid("enterprise.name_required", "请填写企业名称", {"field": "name"})
    if data.industry not in INDUSTRIES:
        raise Invalid(
            "catalogue.unknown_industry", "所属行业不在可选列表中", {"field": "industry", "choices": list(INDUSTRIES)}
        )
    phone = ascii_form(data.contact_phone).strip()
    if phone and not _PHONE.match(phone):
        raise Invalid("enterprise.phone_invalid", "联系电话只能包含数字、“-”和“+”", {"field": "contact_phone"})
    return {
        "name": name,
        "credit_code": normalise_credit_code(data.credit_code),
        "industry": data.industry,
        "org_id": data.org_id,
        "address": data.address.strip(),
        "contact_name": data.contact_name.strip(),
        "contact_phone": phone,
    }


def _taken(existing: Enterprise) -> Conflict:
    return Conflict(
        "enterprise.credit_code_taken",
        f"该统一社会信用代码已由“{existing.name}”登记，请联系该企业的现有联系人发送邀请码加入",
        {"field": "credit_code", "enterprise_name": existing.name},
    )


async def register(user_id: int, data: EnterpriseInput) -> Enterprise:
    """A new enterprise with the caller as its first contact; one enterprise per credit code."""
    values = _clean(data)
    if not await Org.exists(id=data.org_id):
        raise NotFound("org.not_found", "工会组织不存在", {"org_id": data.org_id})
    existing = await Enterprise.get_or_none(credit_code=values["credit_code"])
    if existing is not None:
        raise _taken(existing)
    try:
        async with in_transaction():
            enterprise = await Enterprise.create(**values, created_by_id=user_id)
            await EnterpriseContact.create(enterprise_id=enterprise.id, user_id=user_id)
            await grant_role(user_id, UserRole.ENTERPRISE_CONTACT)
    except IntegrityError:  # registered by someone else a moment ago
        raise _taken(await Enterprise.get(credit_code=values["credit_code"])) from None
    return enterprise


async def invite(user_id: int, enterprise_id: int, at: datetime) -> tuple[EnterpriseInvitation, str]:
    """A single-use code, valid `INVITATION_DAYS` days, for a colleague to become a contact; the
    code itself is returned once and only its hash is kept."""
    enterprise = await (await contact_scope(user_id)).get(Enterprise.all(), id=enterprise_id)
    code = new_code()
    invitation = await EnterpriseInvitation.create(
        enterprise_id=enterprise.id,
        code_hash=code_hash(code),
        created_by_id=user_id,
        expires_at=at + timedelta(days=INVITATION_DAYS),
    )
    return invitation, code


async def join(user_id: int, raw_code: str, at: datetime) -> Enterprise:
    """Redeem an invitation: the caller becomes a contact of its enterprise."""
    code = normalise_code(raw_code)
    if code is None:
        raise Invalid("enterprise.invitation_invalid", "邀请码格式不正确，应为 8 位字母和数字", {"field": "code"})
    async with in_transaction():
        invitation = await EnterpriseInvitation.filter(code_hash=code_hash(code)).select_for_update().get_or_none()
        if invitation is None:
            raise NotFound("enterprise.invitation_not_found", "邀请码不存在，请核对后重新输入", {"field": "code"})
        if invitation.redeemed_at is not None:
            raise Conflict("enterprise.invitation_used", "该邀请码已被使用，请联系企业联系人重新邀请")
        if at >= invitation.expires_at:
            raise Conflict("enterprise.invitation_expired", "该邀请码已过期，请联系企业联系人重新邀请")
        if await EnterpriseContact.exists(enterprise_id=invitation.enterprise_id, user_id=user_id):
            raise Conflict("enterprise.already_contact", "您已是该企业的联系人")
        await EnterpriseContact.create(
            enterprise_id=invitation.enterprise_id, user_id=user_id, invited_by_id=invitation.created_by_id
        )
        invitation.redeemed_by_id, invitation.redeemed_at = user_id, at
        await invitation.save(update_fields=["redeemed_by_id", "redeemed_at"])
        await grant_role(user_id, UserRole.ENTERPRISE_CONTACT)
        return await Enterprise.get(id=invitation.enterprise_id)


async def verify(scope: StaffScope, enterprise_id: int, actor: Actor, at: datetime) -> Enterprise:
    """A caseworker of the enterprise's union confirms it is what it says, once."""
    async with in_transaction():
        enterprise = await scope.get(Enterprise.all().select_for_update(), id=enterprise_id)
        if enterprise.status == EnterpriseStatus.VERIFIED:
            raise Conflict(
                "enterprise.already_verified", "该企业已通过核验", {"verified_at": str(enterprise.verified_at)}
            )
        enterprise.status, enterprise.verified_at, enterprise.verified_by_id = EnterpriseStatus.VERIFIED, at, actor.id
        await enterprise.save(update_fields=["status", "verified_at", "verified_by_id"])
        await record(
            actor,
            "enterprise.verify",
            object_type="enterprise",
            object_id=enterprise.id,
            org_id=enterprise.org_id,
            before={"status": EnterpriseStatus.PENDING.value},
            after={"status": EnterpriseStatus.VERIFIED.value, "name": enterprise.name},
        )
    return enterprise


def require_verified(enterprise: Enterprise) -> None:
    """Orders are dispatched only for enterprises a caseworker has verified."""
    if enterprise.status != EnterpriseStatus.VERIFIED:
        raise Conflict("enterprise.not_verified", "企业尚未通过工会核验", {"enterprise_id": enterprise.id})
