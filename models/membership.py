"""Union membership: member numbers, transfers and withdrawals, member cards, and the figures.

One active membership per person (decided by the ID number's blind index, not by WeChat
account) is enforced by the database: `active_key` holds the blind index while a membership is
active and NULL otherwise, under a unique constraint. The figures roll up the tree: every
admission, transfer and withdrawal adjusts the tallies of the org and all its ancestors in the
same transaction, so the figures of any subtree are one indexed read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.accounts import User
from models.audit import Actor
from models.catalogue import OCCUPATIONS, PLATFORMS, label_of
from models.errors import Conflict, Invalid, NotFound
from models.identity import is_ascii_digits, mask_name
from models.kernel.machine import NEW, Audit, StateMachine, Step, begin, move, transition
from models.notifications import Event, notify
from models.orgs import Org, OrgClosure, in_subtree
from models.scope import StaffScope
from server.clock import SHANGHAI, now
from server.crypto import CardSigner


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    TRANSFERRED = "transferred"
    WITHDRAWN = "withdrawn"


MEMBERSHIP_STATUS_LABELS = {
    MembershipStatus.ACTIVE: "正常",
    MembershipStatus.TRANSFERRED: "已转出",
    MembershipStatus.WITHDRAWN: "已退会",
}


class Membership(Model):
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.RESTRICT
    )
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="memberships", on_delete=fields.RESTRICT
    )
    member_no = fields.CharField(max_length=24, unique=True)
    status = fields.CharEnumField(MembershipStatus, max_length=16, default=MembershipStatus.ACTIVE)
    person_key = fields.CharField(max_length=64, db_index=True)
    active_key = fields.CharField(max_length=64, null=True, unique=True)
    real_name = fields.CharField(max_length=32)
    id_masked = fields.CharField(max_length=18)
    phone = fields.CharField(max_length=11)
    is_gig_worker = fields.BooleanField()
    occupation = fields.CharField(max_length=32)
    platform = fields.CharField(max_length=32)
    enrolment_id = fields.BigIntField(null=True)
    previous_id = fields.BigIntField(null=True)
    joined_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    user_id: int
    org_id: int

    class Meta:
        table = "memberships"
        # "Is this user a member" (every submission asks), and the member list newest first.
        indexes = (("user_id", "status"), ("status", "joined_at"))


class ChangeKind(StrEnum):
    TRANSFER = "transfer"
    WITHDRAWAL = "withdrawal"


class ChangeStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class MembershipChange(Model):
    """A transfer (reviewed by the receiving union) or a withdrawal (by the current union)."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(ChangeKind, max_length=16)
    membership: fields.ForeignKeyRelation[Membership] = fields.ForeignKeyField(
        "models.Membership", related_name="changes", on_delete=fields.RESTRICT
    )
    user_id = fields.BigIntField(db_index=True)
    target_org_id = fields.BigIntField(null=True)
    review_org_id = fields.BigIntField(db_index=True)
    status = fields.CharEnumField(ChangeStatus, max_length=16, default=ChangeStatus.SUBMITTED)
    open_key = fields.BigIntField(null=True, unique=True)
    reason = fields.CharField(max_length=200, default="")
    decision_reason = fields.CharField(max_length=200, default="")
    decided_by_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    membership_id: int

    class Meta:
        table = "membership_changes"


CHANGE_MACHINE = StateMachine(
    "membership_change",
    moves={
        "request": move(NEW, ChangeStatus.SUBMITTED, "user"),
        "approve": move(ChangeStatus.SUBMITTED, ChangeStatus.APPROVED, "staff"),
        "reject": move(ChangeStatus.SUBMITTED, ChangeStatus.REJECTED, "staff"),
    },
    labels={},
    conflict_code="membership.change_decided",
    conflict_message="该申请已处理，无需重复操作",
    org_field="review_org_id",
)


class MemberNumberSequence(Model):
    id = fields.BigIntField(primary_key=True)
    prefix = fields.CharField(max_length=16, unique=True)
    last_value = fields.BigIntField(default=0)

    class Meta:
        table = "member_number_sequences"


class OrgMemberTally(Model):
    """Members of an org's whole subtree, in total (`all`) and by occupation and platform."""

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField()
    dimension = fields.CharField(max_length=16)
    value = fields.CharField(max_length=32)
    members = fields.BigIntField(default=0)
    gig_members = fields.BigIntField(default=0)

    class Meta:
        table = "org_member_tallies"
        unique_together = (("org_id", "dimension", "value"),)


# --- member numbers ------------------------------------------------------------------------


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


# --- figures -------------------------------------------------------------------------------


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


async def subtree_figures(org_id: int) -> dict[str, object]:
    rows = await OrgMemberTally.filter(org_id=org_id).values("dimension", "value", "members", "gig_members")
    total = next((row for row in rows if row["dimension"] == "all"), {"members": 0, "gig_members": 0})

    def breakdown(dimension: str, choices: dict[str, str]) -> list[dict[str, object]]:
        picked = [row for row in rows if row["dimension"] == dimension and row["members"] > 0]
        picked.sort(key=lambda row: (-row["members"], row["value"]))
        return [
            {
                "code": row["value"],
                "label": label_of(choices, row["value"]),
                "members": row["members"],
                "gig_members": row["gig_members"],
            }
            for row in picked
        ]

    return {
        "org_count": await OrgClosure.filter(ancestor_id=org_id).count(),
        "member_count": total["members"],
        "gig_member_count": total["gig_members"],
        "by_occupation": breakdown("occupation", OCCUPATIONS),
        "by_platform": breakdown("platform", PLATFORMS),
    }


# --- admission, transfer, withdrawal --------------------------------------------------------


async def admit(
    *,
    user_id: int,
    org: Org,
    person_key: str,
    real_name: str,
    id_masked: str,
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


async def active_membership(user_id: int) -> Membership | None:
    return await Membership.get_or_none(user_id=user_id, status=MembershipStatus.ACTIVE)


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
        scope.restrict(MembershipChange.filter(id=change_id), "review_org_id"),
        "approve" if approve else "reject",
        actor,
        not_found=scope.not_found({"id": change_id}),
        note=reason,
        effects=settle,
    )


# --- the electronic member card ------------------------------------------------------------


def issue_card(signer: CardSigner, membership: Membership, org: Org, ttl_seconds: int) -> dict[str, object]:
    issued = now()
    expires = issued + timedelta(seconds=ttl_seconds)
    claims = {
        "v": 1,
        "mid": membership.id,
        "no": membership.member_no,
        "name": mask_name(membership.real_name),
        "org": org.name,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return {
        "member_no": membership.member_no,
        "holder": claims["name"],
        "org_name": org.name,
        "issued_at": issued,
        "expires_at": expires,
        "qr_payload": signer.sign(claims),
    }


async def verify_card(signer: CardSigner, payload: str) -> dict[str, object]:
    """A verdict a rest station can act on, revealing only the masked name and the union."""
    claims = signer.verify(payload.strip())
    if claims is None or claims.get("v") != 1:
        return {"valid": False, "code": "card.forged", "message": "会员卡无效：签名校验失败"}
    expires_at = datetime.fromtimestamp(int(claims["exp"]), SHANGHAI)  # type: ignore[arg-type]
    if expires_at <= now():
        return {"valid": False, "code": "card.expired", "message": "会员卡二维码已过期，请会员刷新后重新出示"}
    membership = await Membership.get_or_none(id=claims["mid"])
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        return {"valid": False, "code": "card.not_current", "message": "该会员资格已失效"}
    return {
        "valid": True,
        "code": "card.valid",
        "message": "会员卡有效",
        "holder": claims["name"],
        "org_name": claims["org"],
        "expires_at": expires_at.isoformat(),
    }


async def active_member_total(
    org_id: int, is_gig_worker: bool | None, occupation: str | None, platform: str | None
) -> int | None:
    """How many active members a subtree list holds, read from the tallies instead of counted
    (a count over a city's 860,000 members costs a quarter of a second). None when the filter
    is one the tallies do not keep (occupation and platform together)."""
    if occupation and platform:
        return None
    dimension, value = ("occupation", occupation) if occupation else ("platform", platform) if platform else ("all", "")
    tally = await OrgMemberTally.get_or_none(org_id=org_id, dimension=dimension, value=value)
    if tally is None:
        return 0
    if is_gig_worker is None:
        return tally.members
    return tally.gig_members if is_gig_worker else tally.members - tally.gig_members


@dataclass(frozen=True)
class MemberFilter:
    status: MembershipStatus | None = MembershipStatus.ACTIVE
    org_id: int | None = None
    is_gig_worker: bool | None = None
    occupation: str | None = None
    platform: str | None = None
    q: str | None = None  # a member number, or part of a name


async def member_list(scope: StaffScope, chosen: MemberFilter) -> tuple[QuerySet[Membership], int]:
    """The members a staff member may list under the filter (unordered), and how many there are:
    from the tallies when they keep that figure, counted otherwise."""
    query = scope.restrict(Membership.all())
    if chosen.org_id is not None:
        await scope.require(chosen.org_id)
        query = in_subtree(query, chosen.org_id)
    filters = {
        "status": chosen.status,
        "is_gig_worker": chosen.is_gig_worker,
        "occupation": chosen.occupation,
        "platform": chosen.platform,
    }
    query = query.filter(**{key: value for key, value in filters.items() if value is not None})
    text = (chosen.q or "").strip()
    if text:
        query = query.filter(member_no=text) if is_ascii_digits(text) else query.filter(real_name__icontains=text)
    total = None
    if chosen.status == MembershipStatus.ACTIVE and not text:
        total = await active_member_total(
            chosen.org_id if chosen.org_id is not None else scope.org_id,
            chosen.is_gig_worker,
            chosen.occupation,
            chosen.platform,
        )
    return query, total if total is not None else await query.count()
