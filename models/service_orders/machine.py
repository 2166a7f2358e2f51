"""The state table of a service order, on the case kernel.

Who acts is part of the table: `contact` (a contact of the ordering enterprise), `expert` (the
expert the order is offered to or held by), `staff` (a caseworker of the order's subtree) and
`system` (the job runner). Their actors are the worker's, with the kind narrowed by the domain
(`models.service_orders.actions`), so a step taken through the wrong door is refused by the table.

A new order is `submitted`. The caseworker offers it to an expert straight from `submitted`
(one click in the matching panel); `matching` is where an order waits for another expert after
its offer was declined or ran out. There is no separate "start matching" step: it would change
nothing a caseworker or the enterprise can act on.
"""

from __future__ import annotations

from models.kernel.machine import NEW, StateMachine, move
from models.service_orders.tables import CASE_TYPE, ORDER_STATUS_LABELS, OrderStatus

S = OrderStatus
CONTACT, EXPERT, STAFF, SYSTEM = "contact", "expert", "staff", "system"

# Work has not started: the enterprise may still call it off itself.
BEFORE_WORK = frozenset({S.SUBMITTED, S.MATCHING, S.OFFERED, S.ACCEPTED})
OPEN = frozenset({*BEFORE_WORK, S.IN_PROGRESS, S.DELIVERED})
# The enterprise is still waiting for its report: the queue shows how long.
AWAITING_REPORT = OPEN - {S.DELIVERED}
# No expert holds it yet: the union has to offer it (the desk's "unassigned").
AWAITING_DISPATCH = frozenset({S.SUBMITTED, S.MATCHING})
# The expert's work in hand: what counts against their capacity.
ACTIVE_LOAD = frozenset({S.OFFERED, S.ACCEPTED, S.IN_PROGRESS})

MACHINE = StateMachine(
    CASE_TYPE,
    moves={
        "submit": move(NEW, S.SUBMITTED, CONTACT),
        "offer": move({S.SUBMITTED, S.MATCHING}, S.OFFERED, STAFF),
        "accept": move(S.OFFERED, S.ACCEPTED, EXPERT),
        "decline": move(S.OFFERED, S.MATCHING, EXPERT),
        "offer_expired": move(S.OFFERED, S.MATCHING, SYSTEM),
        "first_visit": move(S.ACCEPTED, S.IN_PROGRESS, EXPERT),
        "visit": move(S.IN_PROGRESS, None, EXPERT),
        "deliver": move(S.IN_PROGRESS, S.DELIVERED, EXPERT),
        "confirm": move(S.DELIVERED, S.CONFIRMED, CONTACT),
        "rate": move(S.CONFIRMED, S.CLOSED, CONTACT),
        "cancel": move(BEFORE_WORK, S.CANCELLED, CONTACT),
        "cancel_by_union": move(OPEN, S.CANCELLED, STAFF),
    },
    labels=ORDER_STATUS_LABELS,
    conflict_code="service_order.invalid_transition",
    conflict_message="服务订单当前状态为“{status}”，不能执行此操作",
)

ACTION_LABELS = {
    "submit": "企业下单",
    "offer": "派单给专家",
    "accept": "专家接单",
    "decline": "专家婉拒",
    "offer_expired": "专家答复超时",
    "first_visit": "专家首次上门",
    "visit": "专家上门服务",
    "deliver": "交付整改报告",
    "confirm": "企业确认成效",
    "rate": "企业评价",
    "cancel": "企业取消",
    "cancel_by_union": "工会取消",
}
