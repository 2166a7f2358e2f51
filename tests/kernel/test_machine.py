"""The state machine table and the one transition function, against the real database."""

from __future__ import annotations

import httpx
import pytest

from models.audit import Actor, AuditEntry
from models.enrolment.machine import MACHINE
from models.enrolment.tables import Enrolment, EnrolmentStatus
from models.errors import Conflict, Forbidden, Invalid, NotFound
from models.kernel.history import CaseEvent, history_of
from models.kernel.machine import NEW, StateMachine, Step, move, transition
from models.notifications.tables import Notification
from tests.factories.enrolment import applicant

STAFF = Actor("staff", 1, "kernel-test")


def test_the_table_allows_what_it_lists_and_refuses_the_rest() -> None:
    machine = StateMachine(
        "thing",
        moves={
            "open": move(NEW, "open", "user"),
            "close": move({"open"}, "closed", "staff"),
            "note": move({"open", "closed"}, None, "staff", "user"),
        },
        labels={"open": "处理中", "closed": "已结束"},
        conflict_code="thing.invalid_transition",
        conflict_message="当前状态为“{status}”，不能执行此操作",
    )
    assert machine.check("open", "close", "staff").target == "closed"
    assert machine.check("closed", "note", "user").target is None
    with pytest.raises(Conflict) as refused:
        machine.check("closed", "close", "staff")
    assert refused.value.code == "thing.invalid_transition" and "已结束" in refused.value.message
    with pytest.raises(Forbidden):
        machine.check("open", "close", "user")
    assert machine.actions_from("open", "staff") == ["close", "note"]
    assert machine.actions_from("open", "user") == ["note"]


async def _open_enrolment(api: httpx.AsyncClient) -> Enrolment:
    _, _, enrolment_id = await applicant(api)
    return await Enrolment.get(id=enrolment_id)


async def test_a_transition_moves_and_writes_history_audit_and_notice(api: httpx.AsyncClient) -> None:
    enrolment = await _open_enrolment(api)
    notices_before = await Notification.filter(object_type="enrolment", object_id=str(enrolment.id)).count()

    async def effects(case: Enrolment, step: Step) -> None:
        case.reason = "材料不全"
        step.data["checked"] = True

    moved = await transition(
        MACHINE,
        Enrolment.filter(id=enrolment.id),
        "return",
        STAFF,
        not_found=NotFound("enrolment.not_found", "入会申请不存在"),
        note="请补充工作证明",
        effects=effects,
    )
    assert moved.status == EnrolmentStatus.RETURNED
    stored = await Enrolment.get(id=enrolment.id)
    assert stored.status == EnrolmentStatus.RETURNED and stored.reason == "材料不全"
    last = (await history_of("enrolment", enrolment.id))[-1]
    assert (last.action, last.from_status, last.to_status, last.note) == (
        "return",
        "submitted",
        "returned",
        "请补充工作证明",
    )
    assert last.actor_kind == "staff" and last.data == {"checked": True}
    audit = await AuditEntry.filter(action="enrolment.return", object_id=str(enrolment.id)).get()
    assert audit.before == {"status": "submitted"} and audit.after["checked"] is True
    # The kernel writes no notice of its own: the domain's effects do (none here).
    assert await Notification.filter(object_type="enrolment", object_id=str(enrolment.id)).count() == notices_before


async def test_a_refused_or_failing_transition_changes_nothing(api: httpx.AsyncClient) -> None:
    enrolment = await _open_enrolment(api)
    events_before = await CaseEvent.filter(case_type="enrolment", case_id=enrolment.id).count()
    not_found = NotFound("enrolment.not_found", "入会申请不存在")
    with pytest.raises(Conflict):
        await transition(
            MACHINE, Enrolment.filter(id=enrolment.id), "resubmit", Actor("user", 1, "x"), not_found=not_found
        )

    async def failing(case: Enrolment, step: Step) -> None:
        case.reason = "不应保存"
        raise Invalid("test.refused", "测试：拒绝")

    with pytest.raises(Invalid):
        await transition(
            MACHINE, Enrolment.filter(id=enrolment.id), "reject", STAFF, not_found=not_found, effects=failing
        )
    stored = await Enrolment.get(id=enrolment.id)
    assert stored.status == EnrolmentStatus.SUBMITTED and stored.reason == ""
    assert await CaseEvent.filter(case_type="enrolment", case_id=enrolment.id).count() == events_before
    assert not await AuditEntry.exists(action="enrolment.reject", object_id=str(enrolment.id))
    with pytest.raises(NotFound):
        await transition(MACHINE, Enrolment.filter(id=enrolment.id, user_id=0), "approve", STAFF, not_found=not_found)
