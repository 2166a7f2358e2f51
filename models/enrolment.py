"""Union enrolment (入会): a worker applies to a union; its caseworkers review the application.

The state machine, explicit in `TRANSITIONS`:

    submitted ──approve──▶ approved (a membership is created)
        │ ├────reject───▶ rejected (reason)
        │ └────return───▶ returned (reason) ──resubmit──▶ resubmitted ──(as submitted)──▶ ...
        └──withdraw (from submitted, returned or resubmitted)──▶ withdrawn

One open application per person, decided by the ID number's blind index: `open_key` holds it
while the application is open and NULL after, under a unique constraint, so two racing
submissions give one 201 and one 409. Every step goes through the case kernel
(`models.kernel.machine`): a history row, an audit entry (for caseworkers) and a notification for
the worker, in the transaction of the change.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.accounts import User
from models.audit import Actor, record
from models.catalogue import GIG_OCCUPATIONS, OCCUPATIONS, PLATFORMS, check_choice, label_of
from models.errors import Conflict, Invalid, NotFound
from models.kernel.machine import NEW, StateMachine, Step, begin, move, transition
from models.membership import Membership, MembershipStatus, admit
from models.notifications import Event, notify
from models.orgs import Org, in_subtree
from models.profiles import ID_CONTEXT, WorkerProfile
from models.scope import StaffScope
from server.clock import now
from server.crypto import IdCipher, Sealed


class EnrolmentStatus(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


STATUS_LABELS = {
    EnrolmentStatus.SUBMITTED: "待审核",
    EnrolmentStatus.RETURNED: "退回补充材料",
    EnrolmentStatus.RESUBMITTED: "已重新提交",
    EnrolmentStatus.APPROVED: "已通过",
    EnrolmentStatus.REJECTED: "未通过",
    EnrolmentStatus.WITHDRAWN: "已撤回",
}

REVIEWABLE = frozenset({EnrolmentStatus.SUBMITTED, EnrolmentStatus.RESUBMITTED})
OPEN = REVIEWABLE | {EnrolmentStatus.RETURNED}

MACHINE = StateMachine(
    "enrolment",
    moves={
        "submit": move(NEW, EnrolmentStatus.SUBMITTED, "user"),
        "resubmit": move(EnrolmentStatus.RETURNED, EnrolmentStatus.RESUBMITTED, "user"),
        "withdraw": move(OPEN, EnrolmentStatus.WITHDRAWN, "user"),
        "approve": move(REVIEWABLE, EnrolmentStatus.APPROVED, "staff"),
        "reject": move(REVIEWABLE, EnrolmentStatus.REJECTED, "staff"),
        "return": move(REVIEWABLE, EnrolmentStatus.RETURNED, "staff"),
    },
    labels=STATUS_LABELS,
    conflict_code="enrolment.invalid_transition",
    conflict_message="申请当前状态为“{status}”，不能执行此操作",
)


class Enrolment(Model):
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="enrolments", on_delete=fields.RESTRICT
    )
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="enrolments", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(EnrolmentStatus, max_length=16, default=EnrolmentStatus.SUBMITTED, db_index=True)
    open_key = fields.CharField(max_length=64, null=True, unique=True)
    person_key = fields.CharField(max_length=64, db_index=True)
    real_name = fields.CharField(max_length=32)
    phone = fields.CharField(max_length=11)
    id_key_id = fields.CharField(max_length=16)
    id_ciphertext = fields.CharField(max_length=128)
    id_masked = fields.CharField(max_length=18)
    occupation = fields.CharField(max_length=32)
    occupation_other = fields.CharField(max_length=32, default="")
    platform = fields.CharField(max_length=32, default="none")
    platform_other = fields.CharField(max_length=32, default="")
    is_gig_worker = fields.BooleanField(default=False)
    city = fields.CharField(max_length=32, default="")
    district = fields.CharField(max_length=32, default="")
    note = fields.CharField(max_length=500, default="")
    reason = fields.CharField(max_length=200, default="")
    membership_id = fields.BigIntField(null=True)
    submitted_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    decided_at = fields.DatetimeField(null=True)
    decided_by_id = fields.BigIntField(null=True)

    user_id: int
    org_id: int

    class Meta:
        table = "enrolments"
        indexes = (("org_id", "status"), ("user_id", "status"))


_EVENT_TEXT = {
    "submit": ("入会申请已提交", "您向{org}提交的入会申请已受理，工会将尽快审核。", "已提交"),
    "resubmit": ("入会申请已重新提交", "您补充后的入会申请已提交给{org}，请等待审核。", "已重新提交"),
    "approve": ("入会申请已通过", "欢迎加入{org}！您的会员号为 {member_no}，电子会员卡已生成。", "已通过"),
    "reject": ("入会申请未通过", "您向{org}提交的入会申请未通过，原因：{reason}", "未通过"),
    "return": ("入会申请需补充材料", "{org}退回了您的入会申请，请按要求补充后重新提交：{reason}", "需补充材料"),
    "withdraw": ("入会申请已撤回", "您已撤回向{org}提交的入会申请。", "已撤回"),
}


async def _notice(enrolment: Enrolment, step: Step, member_no: str = "") -> None:
    """The worker hears of every step; WeChat carries only what someone else did."""
    if enrolment.status not in OPEN:
        enrolment.open_key = None
    org = await Org.get(id=enrolment.org_id)
    title, body, status_text = _EVENT_TEXT[step.action]
    text = body.format(org=org.name, reason=enrolment.reason, member_no=member_no)
    values = {
        "status": status_text,
        "org": org.name,
        "applicant": enrolment.real_name,
        "time": step.at.isoformat(),
        "note": enrolment.reason or (f"会员号{member_no}" if member_no else title),
    }
    await notify(
        enrolment.user_id,
        Event(
            f"enrolment.{enrolment.status.value}",
            title,
            text,
            "enrolment",
            enrolment.id,
            org.id,
            f"pages/enrolment/detail?id={enrolment.id}",
            values,
            push=step.actor.kind == "staff",
        ),
    )


# --- the worker's side ---------------------------------------------------------------------


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
            await begin(MACHINE, enrolment, "submit", actor, effects=_notice)
    except IntegrityError:
        raise Conflict("enrolment.open_exists", "您已有一份正在办理的入会申请，请勿重复提交") from None
    return enrolment


def own_enrolments(user: User) -> QuerySet[Enrolment]:
    return Enrolment.filter(user_id=user.id)


async def own_enrolment(user: User, enrolment_id: int) -> Enrolment:
    found = await _own(user, enrolment_id).first()
    if found is None:
        raise _not_found(enrolment_id)
    return found


def _own(user: User, enrolment_id: int) -> QuerySet[Enrolment]:
    return Enrolment.filter(id=enrolment_id, user_id=user.id)


async def resubmit(user: User, enrolment_id: int, note: str, actor: Actor) -> Enrolment:
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
                "city": profile.city,
                "district": profile.district,
                "note": note.strip()[:500] or enrolment.note,
                "reason": "",
                "submitted_at": step.at,
            }
        )
        await _notice(enrolment, step)

    return await transition(
        MACHINE, _own(user, enrolment_id), "resubmit", actor, not_found=_not_found(enrolment_id), effects=refresh
    )


async def withdraw(user: User, enrolment_id: int, actor: Actor) -> Enrolment:
    return await transition(
        MACHINE, _own(user, enrolment_id), "withdraw", actor, not_found=_not_found(enrolment_id), effects=_notice
    )


def _not_found(enrolment_id: int) -> NotFound:
    return NotFound("enrolment.not_found", "入会申请不存在", {"id": enrolment_id})


# --- the caseworker's side -----------------------------------------------------------------


def reviewable_enrolments(
    scope: StaffScope,
    *,
    status: EnrolmentStatus | None = None,
    org_id: int | None = None,
    is_gig_worker: bool | None = None,
    occupation: str | None = None,
    platform: str | None = None,
    submitted_from: datetime | None = None,
    submitted_to: datetime | None = None,
    q: str | None = None,
) -> QuerySet[Enrolment]:
    query = scope.restrict(Enrolment.all())
    if org_id is not None:
        query = in_subtree(query, org_id)
    filters = {
        "status": status,
        "is_gig_worker": is_gig_worker,
        "occupation": occupation,
        "platform": platform,
        "submitted_at__gte": submitted_from,
        "submitted_at__lt": submitted_to,
    }
    query = query.filter(**{key: value for key, value in filters.items() if value is not None})
    if q:
        query = query.filter(real_name__icontains=q.strip())
    return query


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
                phone=enrolment.phone,
                is_gig_worker=enrolment.is_gig_worker,
                occupation=enrolment.occupation,
                platform=enrolment.platform,
                enrolment_id=enrolment.id,
            )
            enrolment.membership_id = membership.id
            member_no = step.data["member_no"] = membership.member_no
        await _notice(enrolment, step, member_no)

    return await transition(
        MACHINE,
        scope.restrict(Enrolment.filter(id=enrolment_id)),
        action,
        actor,
        not_found=scope.not_found({"id": enrolment_id}),
        note=reason,
        effects=decide,
    )


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


def occupation_label(enrolment: Enrolment) -> str:
    return label_of(OCCUPATIONS, enrolment.occupation, enrolment.occupation_other)


def platform_label(enrolment: Enrolment) -> str:
    return label_of(PLATFORMS, enrolment.platform, enrolment.platform_other)


# --- the caseworker's desk ------------------------------------------------------------------

REVIEW_DUE_DAYS = 3


async def queue_counts(scope: StaffScope) -> dict[str, int]:
    waiting = scope.restrict(Enrolment.filter(status__in=list(REVIEWABLE)))
    overdue = waiting.filter(submitted_at__lt=now() - timedelta(days=REVIEW_DUE_DAYS))
    return {"waiting": await waiting.count(), "overdue": await overdue.count()}


async def weekly_submissions(scope: StaffScope, weeks: int = 8) -> list[tuple[str, int]]:
    """Applications per week, oldest first, labelled by the week's Monday."""
    today = now().date()
    monday = today - timedelta(days=today.weekday())
    found = []
    for back in range(weeks - 1, -1, -1):
        start = datetime.combine(monday - timedelta(weeks=back), time.min, tzinfo=now().tzinfo)
        count = await scope.restrict(
            Enrolment.filter(submitted_at__gte=start, submitted_at__lt=start + timedelta(weeks=1))
        ).count()
        found.append((start.strftime("%m-%d"), count))
    return found
