"""The enrolment state machine, as a table of the case kernel."""

from __future__ import annotations

from models.enrolment.tables import OPEN, REVIEWABLE, STATUS_LABELS, EnrolmentStatus
from models.kernel.machine import NEW, StateMachine, move

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
