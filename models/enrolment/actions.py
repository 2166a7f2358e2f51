"""What workers and caseworkers do to an application; each step goes through the kernel's
`transition`, so it is locked, checked, recorded and notified in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import User
from models.audit import Actor, record
from models.catalogue import GIG_OCCUPATIONS, OCCUPATIONS, PLATFORMS, check_choice
from models.enrolment.machine import MACHINE
from models.enrolment.notices import notice
from models.enrolment.queries import not_found, own_query
from models.enrolment.tables import OPEN, Enrolment
from models.errors import Conflict, DomainError, Invalid, NotFound
from models.kernel.machine import Step, begin, transition
from models.membership.actions import admit
from models.membership.tables import Membership, MembershipStatus
from models.orgs import Org
from models.profiles.tables import ID_CONTEXT, WorkerProfile
from models.scope import StaffScope
from server.clock import now
from server.crypto import IdCipher, Sealed


async def settle(enrolment: Enrolment, step: Step, member_no: str = "") -> None:
    """After every step: an application that is no longer open frees the person's one open
    slot (`open_key`), and the worker hears of the step."""
    if enrolment.status not in OPEN:
        enrolment.open_key = None
    await notice(enrolment, step, member_no)


async def submit(
    user: User,
    org_id: int,
    occupation: str | None,
    occupation_other: str,
    platform: str | None,
    platform_other: str,
    is_gig_worker: bool | None,
    note: str,
    actor: Actor,
) -> Enrolment:
    profile = await WorkerProfile.get_or_none(user_id=user.id)
    if profile is None:
        raise Invalid("enrolment.profile_required", "请先完善个人信息（姓名、手机号、身份证号）再申请入会")
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("org.not_found", "该工会组织不存在", {"org_id": org_id})
    if not org.accepts_members:
        raise Invalid("enrolment.org_not_accepting", "该工会组织暂不接收入会申请，请选择其他工会", {"org_id": org_id})
    occupation, occupation_other = check_choice(
        "occupation", occupation or profile.occupation, occupation_other or profile.occupation_other, OCCUPATIONS
    )
    platform, platform_other = check_choice(
        "platform", platform or profile.platform, platform_other or profile.platform_other, PLATFORMS
    )
    if await Membership.exists(active_key=profile.id_blind_index) or await Membership.exists(
        user_id=user.id, status=MembershipStatus.ACTIVE
    ):
        raise Conflict("enrolment.already_member", "您已是工会会员，如需更换工会请办理转会")
    if await Enrolment.exists(user_id=user.id, status__in=list(OPEN)):
        raise Conflict("enrolment.open_exists", "您已有一份正在办理的入会申请，请勿重复提交")
    gig = is_gig_worker if is_gig_worker is not None else occupation in GIG_OCCUPATIONS
    try:
        async with in_transaction():
            enrolment = await Enrolment.create(
                user_id=user.id,
                org_id=org.id,
                open_key=profile.id_blind_index,
                person_key=profile.id_blind_index,
                real_name=profile.real_name,
                phone=profile.phone,
                id_key_id=profile.id_key_id,
                id_ciphertext=profile.id_ciphertext,
                id_masked=profile.id_masked,
                id_tail_key=profile.id_tail_key,
                occupation=occupation,
                occupation_other=occupation_other,
                platform=platform,
                platform_other=platform_other,
                is_gig_worker=gig,
                city=profile.city,
                district=profile.district,
                note=note.strip()[:500],
                submitted_at=now(),
            )
            await begin(MACHINE, enrolment, "submit", actor, note=enrolment.note, effects=settle)
    except IntegrityError:
        raise Conflict("enrolment.open_exists", "您已有一份正在办理的入会申请，请勿重复提交") from None
    return enrolment


async def resubmit(user: User, enrolment_id: int, note: str, actor: Actor) -> Enrolment:
    """The worker sends a returned application again. `note` (what they added) goes with this
    step into the history; the application's own `note` stays the first submission's, so
    every note is kept (`queries.submission_notes`)."""

    async def refresh(enrolment: Enrolment, step: Step) -> None:
        profile = await WorkerProfile.get(user_id=user.id)
        if profile.id_blind_index != enrolment.person_key:
            raise Invalid("enrolment.person_changed", "补充材料时不能更换申请人身份证号码，请撤回后重新申请")
        enrolment.update_from_dict(
            {
                "real_name": profile.real_name,
                "phone": profile.phone,
                "id_key_id": profile.id_key_id,
                "id_ciphertext": profile.id_ciphertext,
                "id_masked": profile.id_masked,
                "id_tail_key": profile.id_tail_key,
                "city": profile.city,
                "district": profile.district,
                "reason": "",
                "submitted_at": step.at,
            }
        )
        await settle(enrolment, step)

    return await transition(
        MACHINE,
        own_query(user, enrolment_id),
        "resubmit",
        actor,
        not_found=not_found(enrolment_id),
        note=note,
        effects=refresh,
    )


async def withdraw(user: User, enrolment_id: int, actor: Actor) -> Enrolment:
    return await transition(
        MACHINE, own_query(user, enrolment_id), "withdraw", actor, not_found=not_found(enrolment_id), effects=settle
    )


async def _decide(scope: StaffScope, enrolment_id: int, action: str, reason: str, actor: Actor) -> Enrolment:
    if action in {"reject", "return"} and not reason.strip():
        raise Invalid("enrolment.reason_required", "驳回或退回时请填写原因，申请人会看到它", {"field": "reason"})
    reason = reason.strip()[:200]

    async def decide(enrolment: Enrolment, step: Step) -> None:
        enrolment.reason = reason
        enrolment.decided_at = step.at
        enrolment.decided_by_id = actor.id
        member_no = ""
        if action == "approve":
            membership = await admit(
                user_id=enrolment.user_id,
                org=await Org.get(id=enrolment.org_id),
                person_key=enrolment.person_key,
                real_name=enrolment.real_name,
                id_masked=enrolment.id_masked,
                id_tail_key=enrolment.id_tail_key,
                phone=enrolment.phone,
                is_gig_worker=enrolment.is_gig_worker,
                occupation=enrolment.occupation,
                platform=enrolment.platform,
                enrolment_id=enrolment.id,
            )
            enrolment.membership_id = membership.id
            member_no = step.data["member_no"] = membership.member_no
        await settle(enrolment, step, member_no)

    return await transition(
        MACHINE,
        scope.restrict(Enrolment.filter(id=enrolment_id)),
        action,
        actor,
        not_found=scope.not_found({"id": enrolment_id}),
        note=reason,
        effects=decide,
    )


DECISIONS = ("approve", "reject", "return")


@dataclass(frozen=True)
class Outcome:
    enrolment_id: int
    error: DomainError | None = None


async def decide_each(
    scope: StaffScope, enrolment_ids: list[int], action: str, reason: str, actor: Actor
) -> list[Outcome]:
    """A batch decision: each application through the machine on its own (its own transaction,
    audit entry and notice), so one that was meanwhile decided or left the subtree fails alone."""
    if action not in DECISIONS:
        raise ValueError(action)
    outcomes = []
    for enrolment_id in dict.fromkeys(enrolment_ids):
        try:
            await _decide(scope, enrolment_id, action, reason, actor)
            outcomes.append(Outcome(enrolment_id))
        except DomainError as exc:
            outcomes.append(Outcome(enrolment_id, exc))
    return outcomes


async def approve(scope: StaffScope, enrolment_id: int, actor: Actor) -> Enrolment:
    return await _decide(scope, enrolment_id, "approve", "", actor)


async def reject(scope: StaffScope, enrolment_id: int, reason: str, actor: Actor) -> Enrolment:
    return await _decide(scope, enrolment_id, "reject", reason, actor)


async def return_for_information(scope: StaffScope, enrolment_id: int, reason: str, actor: Actor) -> Enrolment:
    return await _decide(scope, enrolment_id, "return", reason, actor)


async def reveal_id_number(scope: StaffScope, enrolment_id: int, cipher: IdCipher, actor: Actor) -> str:
    """The full ID number, for a caseworker who asks for it explicitly; always audited."""
    enrolment = await scope.get(Enrolment.all(), id=enrolment_id)
    number = cipher.open(Sealed(enrolment.id_key_id, enrolment.id_ciphertext), ID_CONTEXT)
    await record(
        actor,
        "enrolment.reveal_id",
        object_type="enrolment",
        object_id=enrolment.id,
        org_id=enrolment.org_id,
        after={"id_number": enrolment.id_masked},
    )
    return number
