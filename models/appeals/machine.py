"""The demand state machine, as a table of the case kernel."""

from __future__ import annotations

from models.appeals.tables import STATUS_LABELS, AppealStatus
from models.kernel.machine import NEW, StateMachine, move

S = AppealStatus

MACHINE = StateMachine(
    "appeal",
    moves={
        "submit": move(NEW, S.SUBMITTED, "user"),
        "reply": move(S.SUBMITTED, S.REPLIED, "staff"),
        # A later answer (progress of the negotiation, say) leaves the demand where it is.
        "follow_up": move({S.REPLIED, S.TAKEN_UP}, None, "staff"),
        "take_up": move({S.SUBMITTED, S.REPLIED}, S.TAKEN_UP, "staff"),
    },
    labels=STATUS_LABELS,
    conflict_code="appeal.invalid_transition",
    conflict_message="诉求当前状态为“{status}”，不能执行此操作",
)
