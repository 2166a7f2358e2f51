"""What workers and caseworkers do to a demand; each step goes through the kernel, so it is
locked, checked, recorded (history, audit) and notified in one transaction."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.accounts import StaffAccount, User
from models.appeals.machine import MACHINE
from models.appeals.notices import notice
from models.appeals.queries import not_found
from models.appeals.tables import EMPLOYER_MAX, Appeal, AppealReply, AppealStatus
from models.audit import Actor
from models.catalogue import APPEAL_TOPICS, OTHER, PLATFORMS
from models.errors import Invalid, NotFound
from models.kernel.machine import Step, advance, begin, transition
from models.membership.tables import Membership, MembershipStatus
from models.orgs import Org
from models.scope import StaffScope
from server.clock import SHANGHAI, now


async def _addressee(user: User, org_id: int | None) -> Org:
    """The union the worker names (any in the tree hears demands), else the one they belong to."""
    if org_id is None:
        membership = await Membership.get_or_none(user_id=user.id, status=MembershipStatus.ACTIVE)
        if membership is None:
            raise Invalid("appeal.org_required", "您还不是工会会员，请选择要向哪个工会提出诉求", {"field": "org_id"})
        org_id = membership.org_id
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("org.not_found", "该工会组织不存在", {"org_id": org_id})
    return org


async def submit(
    user: User,
    *,
    topic: str,
    content: str,
    platform: str,
    employer: str,
    org_id: int | None,
    anonymous: bool,
    actor: Actor,
) -> Appeal:
    if topic not in APPEAL_TOPICS:
        raise Invalid(
            "appeal.unknown_topic", "诉求类别不在可选列表中", {"field": "topic", "choices": list(APPEAL_TOPICS)}
        )
    if platform not in PLATFORMS:
        raise Invalid(
            "catalogue.unknown_platform", "平台不在可选列表中", {"field": "platform", "choices": list(PLATFORMS)}
        )
    content, employer = content.strip(), employer.strip()[:EMPLOYER_MAX]
    if not content:
        raise Invalid("appeal.content_required", "请填写诉求内容", {"field": "content"})
    if platform == OTHER and not employer:
        raise Invalid("appeal.employer_required", "选择“其他”平台时请填写平台或用工单位名称", {"field": "employer"})
    org = await _addressee(user, org_id)
    at = now()
    async with in_transaction():
        appeal = await Appeal.create(
            user_id=user.id,
            org_id=org.id,
            topic=topic,
            content=content,
            platform=platform,
            employer=employer,
            anonymous=anonymous,
            month=at.astimezone(SHANGHAI).strftime("%Y-%m"),
            submitted_at=at,
        )
        await begin(MACHINE, appeal, "submit", actor)
    return appeal


async def reply(scope: StaffScope, appeal_id: int, content: str, actor: Actor) -> Appeal:
    """The union's answer: the first one moves the demand to replied, later ones keep its state."""
    content = content.strip()
    if not content:
        raise Invalid("appeal.content_required", "请填写答复内容", {"field": "content"})
    staff = await StaffAccount.get(id=actor.id)

    async def answer(appeal: Appeal, step: Step) -> None:
        await AppealReply.create(
            appeal_id=appeal.id,
            org_id=appeal.org_id,
            content=content,
            staff_id=staff.id,
            staff_name=staff.display_name,
            created_at=step.at,
        )
        appeal.replied_at = step.at
        await notice(appeal, step, content)

    async with in_transaction():
        appeal = await scope.restrict(Appeal.filter(id=appeal_id)).select_for_update().first()
        if appeal is None:
            raise not_found(appeal_id)
        action = "reply" if appeal.status == AppealStatus.SUBMITTED else "follow_up"
        await advance(MACHINE, appeal, action, actor, note=content, effects=answer)
    return appeal


async def take_up(scope: StaffScope, appeal_id: int, actor: Actor) -> Appeal:
    """Mark the demand as brought to collective negotiation with the enterprise or platform."""

    async def mark(appeal: Appeal, step: Step) -> None:
        appeal.taken_up_at = step.at
        await notice(appeal, step)

    return await transition(
        MACHINE,
        scope.restrict(Appeal.filter(id=appeal_id)),
        "take_up",
        actor,
        not_found=not_found(appeal_id),
        effects=mark,
    )
