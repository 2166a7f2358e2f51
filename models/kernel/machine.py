"""A case type's state machine as a table, and the one way to move a case.

A domain declares `StateMachine(case_type, moves={action: Move(...)}, labels=...)`: for each
action, the states it may be taken from, the state it leads to (or none: assignment, a message),
and who may take it. `transition` then locks the case, checks the table, lets the domain apply
its own changes (`effects`), saves, and writes the history row, the audit entry and whatever
notices the effects queued, all in one transaction; a move the table does not allow is a clear
409 and changes nothing. `begin` records the first step of a case the domain has just created.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.errors import Conflict, Forbidden, NotFound
from models.kernel.history import CaseEvent
from models.scoping import scoping_of
from server.clock import now

NEW = ""  # the state of a case before it exists: the source of its first action


CaseT = TypeVar("CaseT", bound=Model)


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str | None  # None: the case stays where it is
    by: frozenset[str]  # actor kinds that may take it: "user", "staff", "system"


def move(sources: set[str] | frozenset[str] | str, target: str | None, *by: str) -> Move:
    """`move({"submitted"}, "approved", "staff")`, or one source as a plain string."""
    return Move(frozenset({sources} if isinstance(sources, str) else sources), target, frozenset(by))


@dataclass(frozen=True)
class StateMachine:
    case_type: str
    moves: Mapping[str, Move]
    labels: Mapping[str, str]
    conflict_code: str
    # May name the current state as {status}: "申请当前状态为“{status}”，不能执行此操作".
    conflict_message: str

    def check(self, status: str, action: str, actor_kind: str) -> Move:
        step = self.moves[action]
        if actor_kind not in step.by:
            raise Forbidden(f"{self.case_type}.action_forbidden", "您无权进行此操作", {"action": action})
        if status not in step.sources:
            raise Conflict(
                self.conflict_code,
                self.conflict_message.format(status=self.labels.get(status, status)),
                {"status": status, "action": action},
            )
        return step

    def actions_from(self, status: str, actor_kind: str) -> list[str]:
        return [name for name, step in self.moves.items() if status in step.sources and actor_kind in step.by]


@dataclass
class Step:
    """One step of a case as it happens: given to the domain's effects, then written as history.
    Effects may add to `data` (kept in the history and the audit entry) and name the audit action
    when it depends on the case (`audit_action`)."""

    case_type: str
    case_id: int
    action: str
    from_status: str
    to_status: str
    actor: Actor
    note: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    audit_action: str | None = None


Effects = Callable[[Any, Step], Awaitable[None]]


@dataclass(frozen=True)
class Audit:
    """How a step is written to the audit log: by default `<case_type>.<action>`, for staff; the
    steps of workers and of the system are in the case's history."""

    action: str | None = None
    object_type: str | None = None
    when: frozenset[str] = frozenset({"staff"})


async def transition(
    machine: StateMachine,
    query: QuerySet[CaseT],
    action: str,
    actor: Actor,
    *,
    not_found: NotFound,
    note: str = "",
    effects: Effects | None = None,
    audit: Audit = Audit(),
) -> CaseT:
    """Lock the case that `query` selects (already confined to what the actor may see), move it
    by `action`, apply the domain's `effects`, and record the step, in one transaction."""
    async with in_transaction():
        case = await query.select_for_update().first()
        if case is None:
            raise not_found
        await advance(machine, case, action, actor, note=note, effects=effects, audit=audit)
    return case


async def advance(
    machine: StateMachine,
    case: Any,
    action: str,
    actor: Actor,
    *,
    note: str = "",
    effects: Effects | None = None,
    audit: Audit = Audit(),
) -> Step:
    """`transition` for a case the caller has already locked inside its own transaction."""
    return await _take(machine, case, action, actor, case.status.value, note, effects, audit)


async def begin(
    machine: StateMachine,
    case: Any,
    action: str,
    actor: Actor,
    *,
    note: str = "",
    effects: Effects | None = None,
    audit: Audit = Audit(),
) -> Step:
    """Record the first step of a case the domain has just created in its transaction."""
    return await _take(machine, case, action, actor, NEW, note, effects, audit)


async def _take(
    machine: StateMachine,
    case: Any,
    action: str,
    actor: Actor,
    current: str,
    note: str,
    effects: Effects | None,
    audit: Audit,
) -> Step:
    rule = machine.check(current, action, actor.kind)
    if current == NEW and case.status.value != rule.target:
        raise ValueError(f"a new {machine.case_type} must be created {rule.target}, not {case.status.value}")
    if rule.target is not None:
        case.status = type(case.status)(rule.target)
    step = Step(machine.case_type, case.id, action, current, case.status.value, actor, note.strip()[:500], now())
    if effects is not None:
        await effects(case, step)
    await case.save()
    await _write(machine, case, step, audit)
    return step


async def _write(machine: StateMachine, case: Any, step: Step, audit: Audit) -> None:
    await CaseEvent.create(
        case_type=step.case_type,
        case_id=step.case_id,
        action=step.action,
        from_status=step.from_status,
        to_status=step.to_status,
        actor_kind=step.actor.kind,
        actor_id=step.actor.id,
        actor_name=step.actor.name,
        note=step.note,
        data=step.data or None,
        created_at=step.at,
    )
    if step.actor.kind in audit.when:
        await record(
            step.actor,
            step.audit_action or audit.action or f"{step.case_type}.{step.action}",
            object_type=audit.object_type or step.case_type,
            object_id=step.case_id,
            org_id=getattr(case, scoping_of(type(case)).org),
            before={"status": step.from_status},
            after={"status": step.to_status, **({"reason": step.note} if step.note else {}), **step.data},
        )
