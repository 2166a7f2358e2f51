"""Admission, member numbers and tallies, and membership changes reviewed by the right union."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.accounts import User
from models.audit import Actor
from models.errors import Conflict, Invalid, NotFound
from models.kernel.machine import Audit, Step, begin, transition
from models.membership.machine import CHANGE_MACHINE
from models.membership.queries import active_membership
from models.membership.tables import (
    ChangeKind,
    MemberNumberSequence,
    Membership,
    MembershipChange,
    MembershipStatus,
    OrgMemberTally,
)
from models.notifications.outbox import Event, notify
from models.orgs import Org, OrgClosure
from models.scope import StaffScope
from server.clock import now


async def next_member_no(org: Org, when: datetime) -> str:
    """`<region code, 6 digits><year><7-digit sequence>`: readable, unique across the province,
    collision-free under concurrency (the sequence row is locked for the transaction)."""
    prefix = f"{org.region_code[:6]}{when.year}"
    sequence = await MemberNumberSequence.filter(prefix=prefix).select_for_update().first()
    if sequence is None:
        try:
            async with in_transaction():
                await MemberNumberSequence.create(prefix=prefix, last_value=0)
        except IntegrityError:
            pass
        sequence = await MemberNumberSequence.filter(prefix=prefix).select_for_update().get()
    await MemberNumberSequence.filter(id=sequence.id).update(last_value=F("last_value") + 1)
    await sequence.refresh_from_db(fields=["last_value"])
    return f"{prefix}{sequence.last_value:07d}"


async def adjust_tallies(org_id: int, occupation: str, platform: str, is_gig: bool, delta: int) -> None:
    ancestor_ids = await OrgClosure.filter(descendant_id=org_id).values_list("ancestor_id", flat=True)
    keys = [("all", ""), ("occupation", occupation), ("platform", platform)]
    await OrgMemberTally.bulk_create(
        [OrgMemberTally(org_id=a, dimension=d, value=v) for a in ancestor_ids for d, v in keys],
        ignore_conflicts=True,
    )
    for dimension, value in keys:
        # Lock in one order (by id; the province row first) so that concurrent changes queue up
        # on the tallies instead of deadlocking.
        # Whole rows, not values_list: Tortoise 1.1.9 drops FOR UPDATE from values queries.
        locked = (
            await OrgMemberTally.filter(org_id__in=ancestor_ids, dimension=dimension, value=value)
            .order_by("id")
            .select_for_update()
        )
        ids = [tally.id for tally in locked]
        await OrgMemberTally.filter(id__in=ids).update(
            members=F("members") + delta, gig_members=F("gig_members") + (delta if is_gig else 0)
        )


async def admit(
    *,
    user_id: int,
    org: Org,
    person_key: str,
    real_name: str,
    id_masked: str,
    id_tail_key: str,
    phone: str,
    is_gig_worker: bool,
    occupation: str,
    platform: str,
    enrolment_id: int | None = None,
    previous_id: int | None = None,
) -> Membership:
    """A new active membership, inside the caller's transaction (the caller's change and the
    membership stand or fall together). `Conflict` if the person already has one.

    Tallies are locked before the member-number sequence, in every flow (approval, transfer), so
    that two of them never wait on each other's locks."""
    joined = now()
    await adjust_tallies(org.id, occupation, platform, is_gig_worker, +1)
    try:
        async with in_transaction():
            membership = await Membership.create(
                user_id=user_id,
                org_id=org.id,
                member_no=await next_member_no(org, joined),
                person_key=person_key,
                active_key=person_key,
                real_name=real_name,
                id_masked=id_masked,
                id_tail_key=id_tail_key,
                phone=phone,
                is_gig_worker=is_gig_worker,
                occupation=occupation,
                platform=platform,
                enrolment_id=enrolment_id,
                previous_id=previous_id,
                joined_at=joined,
            )
    except IntegrityError:
        raise Conflict("membership.already_member", "该身份证号码已是工会会员，一人只能加入一个工会") from None
    return membership


async def end_membership(membership: Membership, status: MembershipStatus) -> None:
    membership.status = status
    membership.active_key = None
    membership.ended_at = now()
    await membership.save(update_fields=["status", "active_key", "ended_at"])
    await adjust_tallies(membership.org_id, membership.occupation, membership.platform, membership.is_gig_worker, -1)


async def request_change(
    user: User, kind: ChangeKind, target_org_id: int | None, reason: str, actor: Actor
) -> MembershipChange:
    membership = await active_membership(user.id)
    if membership is None:
        raise NotFound("membership.not_found", "您还不是工会会员")
    if kind == ChangeKind.TRANSFER:
        target = await Org.get_or_none(id=target_org_id or 0)
        if target is None:
            raise NotFound("org.not_found", "该工会组织不存在", {"org_id": target_org_id})
        if not target.accepts_members:
            raise Invalid(
                "membership.org_not_accepting", "该工会组织暂不接收会员，请选择其他工会", {"org_id": target.id}
            )
        if target.id == membership.org_id:
            raise Invalid("membership.same_org", "您已是该工会的会员")
        review_org_id = target.id
    else:
        review_org_id = membership.org_id
    try:
        async with in_transaction():
            change = await MembershipChange.create(
                kind=kind,
                membership_id=membership.id,
                user_id=user.id,
                target_org_id=target_org_id if kind == ChangeKind.TRANSFER else None,
                review_org_id=review_org_id,
                open_key=membership.id,
                reason=reason.strip()[:200],
            )
            await begin(
                CHANGE_MACHINE,
                change,
                "request",
                actor,
                note=change.reason,
                audit=Audit(action=f"membership.{kind.value}_requested", when=frozenset({"user"})),
            )
    except IntegrityError:
        raise Conflict("membership.change_open", "您已有一项待审核的转会或退会申请") from None
    return change


async def decide_change(
    scope: StaffScope, change_id: int, approve: bool, reason: str, actor: Actor
) -> MembershipChange:
    if not approve and not reason.strip():
        raise Invalid("membership.reason_required", "驳回时请填写原因", {"field": "reason"})
    reason = reason.strip()[:200]

    async def settle(change: MembershipChange, step: Step) -> None:
        membership = await Membership.filter(id=change.membership_id).select_for_update().get()
        change.open_key = None
        change.decision_reason = reason
        change.decided_by_id = actor.id
        change.decided_at = step.at
        old_org = await Org.get(id=membership.org_id)
        if approve and change.kind == ChangeKind.TRANSFER:
            await end_membership(membership, MembershipStatus.TRANSFERRED)
            target = await Org.get(id=change.target_org_id)
            new = await admit(
                user_id=membership.user_id,
                org=target,
                person_key=membership.person_key,
                real_name=membership.real_name,
                id_masked=membership.id_masked,
                id_tail_key=membership.id_tail_key,
                phone=membership.phone,
                is_gig_worker=membership.is_gig_worker,
                occupation=membership.occupation,
                platform=membership.platform,
                previous_id=membership.id,
            )
            event = Event(
                "membership.transferred",
                "转会申请已通过",
                f"您已从{old_org.name}转入{target.name}，新会员号 {new.member_no}。",
                "membership",
                new.id,
                target.id,
                "pages/membership/index",
                {"status": "已通过", "org": target.name, "note": f"会员号{new.member_no}"},
            )
        elif approve:
            await end_membership(membership, MembershipStatus.WITHDRAWN)
            event = Event(
                "membership.withdrawn",
                "退会申请已通过",
                f"您已退出{old_org.name}。感谢您一直以来的支持。",
                "membership",
                membership.id,
                old_org.id,
                "pages/membership/index",
                {"status": "已通过", "org": old_org.name, "note": "已办理退会"},
            )
        else:
            label = "转会" if change.kind == ChangeKind.TRANSFER else "退会"
            event = Event(
                f"membership.{change.kind.value}_rejected",
                f"{label}申请未通过",
                f"您的{label}申请未通过，原因：{change.decision_reason}",
                "membership_change",
                change.id,
                change.review_org_id,
                "pages/membership/index",
                {"status": "未通过", "org": old_org.name, "note": change.decision_reason},
            )
        await notify(membership.user_id, event)
        step.audit_action = f"membership.{change.kind.value}_{'approved' if approve else 'rejected'}"

    return await transition(
        CHANGE_MACHINE,
        scope.restrict(MembershipChange.filter(id=change_id)),
        "approve" if approve else "reject",
        actor,
        not_found=scope.not_found({"id": change_id}),
        note=reason,
        effects=settle,
    )
