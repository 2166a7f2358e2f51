"""The state machine of a membership change (transfer or withdrawal), on the case kernel."""

from __future__ import annotations

from models.kernel.machine import NEW, StateMachine, move
from models.membership.tables import ChangeStatus

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
)
