"""Who holds a case: offered to a person with a deadline to answer, or assigned.

A case has at most one live assignment (offered or active). Each function here is called from a
domain's effects during a transition (`models.kernel.machine`), so the step that offered, claimed,
released or reassigned a case is in its history; the functions put the person into the step's
data for that. Offers that are not answered in time are found by `expire_offers`, run by the job
runner, which hands each to the case type's registered handler (the domain moves the case back,
for instance to matching, and tells the caseworker).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.accounts import StaffAccount
from models.errors import Conflict, Invalid
from models.kernel.machine import Step
from models.scope import M, Scope
from models.scoping import scoping_of

log = logging.getLogger("gonghui.assignment")


class AssigneeKind(StrEnum):
    STAFF = "staff"
    EXPERT = "expert"


ASSIGNEE_KIND_LABELS = {AssigneeKind.STAFF: "工作人员", AssigneeKind.EXPERT: "专家"}


class AssignmentState(StrEnum):
    OFFERED = "offered"
    ACTIVE = "active"
    DECLINED = "declined"
    EXPIRED = "expired"
    RELEASED = "released"
    REPLACED = "replaced"


LIVE = (AssignmentState.OFFERED, AssignmentState.ACTIVE)


class Assignment(Model):
    id = fields.BigIntField(primary_key=True)
    case_type = fields.CharField(max_length=32)
    case_id = fields.BigIntField()
    org_id = fields.BigIntField(db_index=True)  # the team (union) whose queue the case is in
    assignee_kind = fields.CharEnumField(AssigneeKind, max_length=8)
    assignee_id = fields.BigIntField()
    assignee_name = fields.CharField(max_length=64, default="")
    state = fields.CharEnumField(AssignmentState, max_length=10)
    respond_by = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    end_note = fields.CharField(max_length=200, default="")

    class Meta:
        table = "case_assignments"
        indexes = (
            ("case_type", "case_id", "state"),
            ("assignee_kind", "assignee_id", "state"),
            ("state", "respond_by"),
        )


class RotationCursor(Model):
    """Where round-robin within a union's team stopped: the last staff member it chose."""

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField(unique=True)
    last_staff_id = fields.BigIntField(default=0)

    class Meta:
        table = "rotation_cursors"


@dataclass(frozen=True)
class ExpertScope(Scope):
    """An expert sees the cases offered or assigned to them, and nothing else."""

    expert_id: int

    def restrict(self, queryset: QuerySet[M]) -> QuerySet[M]:
        case_type = scoping_of(queryset.model).case_type
        if case_type is None:
            raise TypeError(f"{queryset.model.__name__} declares no case type: experts cannot see it")
        held = Assignment.filter(
            case_type=case_type, assignee_kind=AssigneeKind.EXPERT, assignee_id=self.expert_id, state__in=LIVE
        ).values("case_id")
        return queryset.filter(id__in=Subquery(held))


@dataclass(frozen=True)
class Person:
    kind: AssigneeKind
    id: int
    name: str


def staff_person(staff: StaffAccount) -> Person:
    return Person(AssigneeKind.STAFF, staff.id, staff.display_name)


async def current(case_type: str, case_id: int) -> Assignment | None:
    return await Assignment.filter(case_type=case_type, case_id=case_id, state__in=LIVE).order_by("-id").first()


async def _end_live(step: Step, state: AssignmentState, note: str = "") -> Assignment | None:
    live = await current(step.case_type, step.case_id)
    if live is not None:
        live.state, live.ended_at, live.end_note = state, step.at, note[:200]
        await live.save(update_fields=["state", "ended_at", "end_note"])
    return live


async def _start(
    step: Step, org_id: int, person: Person, state: AssignmentState, respond_by: datetime | None
) -> Assignment:
    await _end_live(step, AssignmentState.REPLACED)
    step.data["assignee"] = person.name
    step.data["assignee_kind"] = person.kind.value
    if respond_by is not None:
        step.data["respond_by"] = respond_by.isoformat()
    return await Assignment.create(
        case_type=step.case_type,
        case_id=step.case_id,
        org_id=org_id,
        assignee_kind=person.kind,
        assignee_id=person.id,
        assignee_name=person.name,
        state=state,
        respond_by=respond_by,
        created_at=step.at,
    )


async def offer(step: Step, org_id: int, person: Person, respond_by: datetime) -> Assignment:
    """Offer the case to a person, who accepts or declines by `respond_by`."""
    if respond_by <= step.at:
        raise Invalid("assignment.deadline_passed", "答复期限须晚于当前时间", {"field": "respond_by"})
    return await _start(step, org_id, person, AssignmentState.OFFERED, respond_by)


async def assign(step: Step, org_id: int, person: Person) -> Assignment:
    """Give the case to a person (claim: to oneself; reassign: to someone else)."""
    return await _start(step, org_id, person, AssignmentState.ACTIVE, None)


async def _live_for(step: Step, person: Person, state: AssignmentState) -> Assignment:
    live = await current(step.case_type, step.case_id)
    if live is None or live.state != state or (live.assignee_kind, live.assignee_id) != (person.kind, person.id):
        raise Conflict("assignment.not_yours", "该事项当前不在您名下", {"case_id": step.case_id})
    return live


async def accept(step: Step, person: Person) -> Assignment:
    offered = await _live_for(step, person, AssignmentState.OFFERED)
    if offered.respond_by is not None and offered.respond_by <= step.at:
        raise Conflict("assignment.offer_expired", "答复期限已过，该事项已不再等您答复", {"case_id": step.case_id})
    offered.state, offered.respond_by = AssignmentState.ACTIVE, None
    await offered.save(update_fields=["state", "respond_by"])
    step.data["assignee"] = person.name
    return offered


async def decline(step: Step, person: Person, reason: str) -> Assignment:
    offered = await _live_for(step, person, AssignmentState.OFFERED)
    offered.state, offered.ended_at, offered.end_note = AssignmentState.DECLINED, step.at, reason[:200]
    await offered.save(update_fields=["state", "ended_at", "end_note"])
    step.data["assignee"] = person.name
    return offered


async def release(step: Step, person: Person) -> Assignment:
    """The holder gives the case back to the team's queue."""
    held = await _live_for(step, person, AssignmentState.ACTIVE)
    held.state, held.ended_at = AssignmentState.RELEASED, step.at
    await held.save(update_fields=["state", "ended_at"])
    step.data["assignee"] = person.name
    return held


async def withdraw_offer(step: Step, note: str) -> Assignment | None:
    """End the case's open offer because the case itself ended (cancelled): nobody waits for the
    answer any more, and the offer timeout must not fire for it."""
    live = await current(step.case_type, step.case_id)
    if live is None or live.state != AssignmentState.OFFERED:
        return None
    live.state, live.ended_at, live.end_note = AssignmentState.RELEASED, step.at, note[:200]
    await live.save(update_fields=["state", "ended_at", "end_note"])
    return live


async def next_in_rotation(org_id: int) -> StaffAccount:
    """The next active staff member of the union's team after the one chosen last, in id order,
    wrapping round; the cursor row is locked so two cases never get the same turn."""
    team = await StaffAccount.filter(org_id=org_id, is_active=True).order_by("id").values_list("id", flat=True)
    if not team:
        raise Conflict("assignment.empty_team", "该工会没有可分派的工作人员", {"org_id": org_id})
    async with in_transaction():
        await RotationCursor.get_or_create(org_id=org_id)
        cursor = await RotationCursor.filter(org_id=org_id).select_for_update().get()
        chosen = next((staff_id for staff_id in team if staff_id > cursor.last_staff_id), team[0])
        cursor.last_staff_id = chosen
        await cursor.save(update_fields=["last_staff_id"])
    return await StaffAccount.get(id=chosen)


OfferTimeout = Callable[[Assignment, datetime], Awaitable[None]]
_offer_timeouts: dict[str, OfferTimeout] = {}


def register_offer_timeout(case_type: str, handler: OfferTimeout) -> None:
    """The domain's answer to an offer left unanswered: it moves the case and ends the offer
    (`end_expired`) in the same transaction."""
    _offer_timeouts[case_type] = handler


async def end_expired(step: Step) -> Assignment:
    """End the case's offer that has run out; called by the case type's handler after it locked
    the case, so an answer that came in meanwhile wins and the expiry is refused."""
    live = await current(step.case_type, step.case_id)
    if live is None or live.state != AssignmentState.OFFERED or live.respond_by is None or live.respond_by > step.at:
        raise Conflict("assignment.not_expired", "该邀请已答复或尚未到期", {"case_id": step.case_id})
    live.state, live.ended_at, live.end_note = AssignmentState.EXPIRED, step.at, "答复超时"
    await live.save(update_fields=["state", "ended_at", "end_note"])
    return live


@dataclass(frozen=True)
class OfferTimeoutFailure:
    assignment_id: int
    error: str


async def expire_offers(at: datetime) -> list[OfferTimeoutFailure]:
    """Hand every offer past its deadline at `at` to its case type's handler, each in its own
    transaction; one that fails is reported and does not stop the others."""
    failures = []
    due = await Assignment.filter(state=AssignmentState.OFFERED, respond_by__lte=at).order_by("respond_by", "id")
    for offered in due:
        handler = _offer_timeouts.get(offered.case_type)
        if handler is None:
            failures.append(OfferTimeoutFailure(offered.id, f"LookupError: no offer timeout for {offered.case_type}"))
            continue
        try:
            # The handler locks the case first (as every step of a case does), then ends the offer
            # with `end_expired`, which checks it again: locking the offer here first would take
            # the two rows in the opposite order to an accept, and deadlock with it.
            async with in_transaction():
                await handler(offered, at)
        except Exception as exc:
            log.exception("offer timeout failed", extra={"assignment_id": offered.id})
            failures.append(OfferTimeoutFailure(offered.id, f"{type(exc).__name__}: {exc}"[:255]))
    return failures
