"""The state table of a warm-service request, on the case kernel."""

from __future__ import annotations

from models.kernel.machine import NEW, StateMachine, move
from models.warm_requests.tables import OPEN, STATUS_LABELS, RequestStatus

S = RequestStatus
WORKING = {S.ASSIGNED, S.IN_PROGRESS, S.WAITING_WORKER}

MACHINE = StateMachine(
    "warm_request",
    moves={
        "submit": move(NEW, S.SUBMITTED, "user"),
        "assign": move(S.SUBMITTED, S.ASSIGNED, "staff", "system"),
        "reassign": move(WORKING, None, "staff"),
        "reply": move({S.SUBMITTED, *WORKING}, S.IN_PROGRESS, "staff"),
        "request_info": move({S.SUBMITTED, *WORKING}, S.WAITING_WORKER, "staff"),
        "worker_reply": move(OPEN - {S.WAITING_WORKER}, None, "user"),
        "worker_answers": move(S.WAITING_WORKER, S.IN_PROGRESS, "user"),
        "resolve": move({S.SUBMITTED, *WORKING}, S.RESOLVED, "staff"),
        "rate": move(S.RESOLVED, S.CLOSED, "user"),
        "reopen": move(S.RESOLVED, S.IN_PROGRESS, "user"),
        "withdraw": move(OPEN, S.WITHDRAWN, "user"),
        "transfer": move(OPEN, None, "staff"),
        "escalate": move(OPEN, None, "staff", "system"),
    },
    labels=STATUS_LABELS,
    conflict_code="warm_request.invalid_transition",
    conflict_message="求助当前状态为“{status}”，不能执行此操作",
)
