"""What changes the roster: union admins keep the experts of their subtree (audited) and hand
each a code with which the expert binds their WeChat account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import UserRole, grant_role
from models.audit import Actor, record
from models.catalogue import EXPERT_TITLES, INDUSTRIES, SKILLS, check_codes
from models.enterprises.tables import Enterprise
from models.errors import Conflict, Invalid, NotFound
from models.experts.tables import Expert
from models.invite_codes import code_hash, new_code, normalise_code
from models.orgs import Org, ancestors
from models.scope import StaffScope

INVITE_DAYS = 14
MAX_ACTIVE_ORDERS = 20
_CHOICES = {
    "titles": ("title", "称号", EXPERT_TITLES),
    "industries": ("industry", "行业", INDUSTRIES),
    "skills": ("skill", "专长", SKILLS),
}
COUNTS = (
    "years",
    "patents_us_invention",
    "patents_cn_invention",
    "patents_utility_model",
    "standards_national",
    "standards_group",
)
AUDITED = (
    "name",
    "org_id",
    "titles",
    "industries",
    "skills",
    "regions",
    *COUNTS,
    "max_active_orders",
    "bio",
    "employer_enterprise_id",
    "active",
)


@dataclass(frozen=True)
class ExpertInput:
    name: str
    org_id: int
    titles: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    regions: list[int] = field(default_factory=list)
    years: int = 0
    patents_us_invention: int = 0
    patents_cn_invention: int = 0
    patents_utility_model: int = 0
    standards_national: int = 0
    standards_group: int = 0
    max_active_orders: int = 2
    bio: str = ""
    employer_enterprise_id: int | None = None
    active: bool = True


async def _clean(data: ExpertInput) -> dict[str, object]:
    """The expert's columns from an admin's input, or `Invalid` / `NotFound` naming the field."""
    name = data.name.strip()
    if not name:
        raise Invalid("expert.name_required", "请填写专家姓名", {"field": "name"})
    for count in COUNTS:
        if not 0 <= getattr(data, count) <= 10_000:
            raise Invalid("expert.count_invalid", "年限、专利和标准数须为 0 至 10000 的整数", {"field": count})
    if not 1 <= data.max_active_orders <= MAX_ACTIVE_ORDERS:
        raise Invalid(
            "expert.capacity_invalid",
            f"同时承接的订单数须在 1 至 {MAX_ACTIVE_ORDERS} 之间",
            {"field": "max_active_orders"},
        )
    regions = list(dict.fromkeys(data.regions))
    missing = set(regions) - set(await Org.filter(id__in=regions).values_list("id", flat=True))
    if missing:
        raise NotFound(
            "org.not_found", "服务区域中有不存在的工会组织", {"field": "regions", "org_ids": sorted(missing)}
        )
    employer = data.employer_enterprise_id
    if employer is not None and not await Enterprise.exists(id=employer):
        raise NotFound("enterprise.not_found", "任职企业不存在", {"field": "employer_enterprise_id"})
    return {
        "name": name,
        "org_id": data.org_id,
        **{
            key: check_codes(kind, label, key, getattr(data, key), choices)
            for key, (kind, label, choices) in _CHOICES.items()
        },
        "regions": regions,
        **{count: getattr(data, count) for count in COUNTS},
        "max_active_orders": data.max_active_orders,
        "bio": data.bio.strip(),
        "employer_enterprise_id": employer,
        "active": data.active,
    }


async def _check_regions(scope: StaffScope, regions: list[int], kept: list[int] | None = None) -> None:
    """An admin names as regions the unions of their subtree or those above it (a district's
    expert serving the city), as the roster page offers; regions the expert already has stay."""
    new = [region for region in regions if region not in (kept or [])]
    if not new or scope.sees_everything:
        return
    allowed = set(await scope.restrict(Org.filter(id__in=new)).values_list("id", flat=True))
    allowed |= {org.id for org in await ancestors(scope.org_id)}
    outside = sorted(set(new) - allowed)
    if outside:
        raise Invalid(
            "expert.region_outside",
            "服务区域（regions）只能选择本级及下级工会，或上级工会",
            {"field": "regions", "org_ids": outside},
        )


def _audited(expert: Expert) -> dict[str, object]:
    return {name: getattr(expert, name) for name in AUDITED}


def _fresh_code(expert: Expert, at: datetime) -> str:
    code = new_code()
    expert.invite_code_hash, expert.invite_expires_at = code_hash(code), at + timedelta(days=INVITE_DAYS)
    return code


async def create_expert(scope: StaffScope, data: ExpertInput, actor: Actor, at: datetime) -> tuple[Expert, str]:
    """A roster entry in the admin's subtree, and its binding code (shown once, never stored)."""
    values = await _clean(data)
    await scope.require(data.org_id)
    await _check_regions(scope, list(dict.fromkeys(data.regions)))
    async with in_transaction():
        expert = Expert(**values)
        code = _fresh_code(expert, at)
        await expert.save()
        await record(
            actor, "expert.create", object_type="expert", object_id=expert.id, org_id=expert.org_id, after=values
        )
    return expert, code


async def update_expert(scope: StaffScope, expert_id: int, data: ExpertInput, actor: Actor) -> Expert:
    """Replaces every field; moving an expert to another union needs that union in scope too."""
    values = await _clean(data)
    async with in_transaction():
        expert = await scope.get(Expert.all().select_for_update(), id=expert_id)
        if data.org_id != expert.org_id:
            await scope.require(data.org_id)
        await _check_regions(scope, list(dict.fromkeys(data.regions)), kept=expert.regions)
        before = _audited(expert)
        await expert.update_from_dict(values).save()
        await record(
            actor,
            "expert.update",
            object_type="expert",
            object_id=expert.id,
            org_id=expert.org_id,
            before=before,
            after=_audited(expert),
        )
    return expert


async def reissue_invite(scope: StaffScope, expert_id: int, actor: Actor, at: datetime) -> tuple[Expert, str]:
    """A fresh binding code; the previous one stops working."""
    async with in_transaction():
        expert = await scope.get(Expert.all().select_for_update(), id=expert_id)
        if expert.user_id is not None:
            raise Conflict("expert.already_bound", "该专家已绑定微信账号，无需再发邀请码")
        code = _fresh_code(expert, at)
        await expert.save(update_fields=["invite_code_hash", "invite_expires_at"])
        await record(
            actor,
            "expert.invite",
            object_type="expert",
            object_id=expert.id,
            org_id=expert.org_id,
            after={"expires_at": str(expert.invite_expires_at)},
        )
    return expert, code


async def claim(user_id: int, raw_code: str, at: datetime) -> Expert:
    """Bind the caller's WeChat account to the expert whose code they hold; the code works once
    and until it expires, and one account is one expert."""
    code = normalise_code(raw_code)
    if code is None:
        raise Invalid("expert.invite_invalid", "邀请码格式不正确，应为 8 位字母和数字", {"field": "invite_code"})
    try:
        async with in_transaction():
            expert = await Expert.filter(invite_code_hash=code_hash(code)).select_for_update().get_or_none()
            if expert is None or not expert.active:
                raise NotFound("expert.invite_not_found", "邀请码不存在或已作废，请向工会索取新的邀请码")
            if expert.user_id is not None:
                raise Conflict("expert.already_bound", "该邀请码已被使用，专家已绑定微信账号")
            if expert.invite_expires_at is None or at >= expert.invite_expires_at:
                raise Conflict("expert.invite_expired", "邀请码已过期，请向工会索取新的邀请码")
            if await Expert.exists(user_id=user_id):
                raise Conflict("expert.user_already_bound", "您的微信账号已绑定另一位专家")
            expert.user_id = user_id
            await expert.save(update_fields=["user_id"])
            await grant_role(user_id, UserRole.EXPERT)
    except IntegrityError:  # the same account bound to another expert at the same moment
        raise Conflict("expert.user_already_bound", "您的微信账号已绑定另一位专家") from None
    return expert
