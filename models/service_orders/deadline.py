"""The enterprise's deadline (its audit date) as a kernel SLA timer.

One timer of kind `deadline` per order, on the 24x7 calendar (an audit does not wait for
working days): started when the order is placed, met when the report is delivered, stopped
when the order is cancelled. It is due at the end of the deadline date, that is 00:00 Beijing
time of the following day, so an order due "on the 26th" may still be delivered on the 26th. It
is at risk once 80 % of the time from submission to that instant is used (the kernel's default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from models.kernel.calendar import CalendarKind
from models.kernel.timers import (
    BreachAction,
    meet_timer,
    open_timer,
    start_timer,
    stop_timer,
    timer_facts,
    timer_states,
)
from models.service_orders.tables import CASE_TYPE, ServiceOrder
from server.clock import SHANGHAI

KIND = "deadline"
DEADLINE_STATE_LABELS = {
    "on_track": "正常",
    "at_risk": "临近截止",
    "breached": "已逾期",
    "met": "按期交付",
    "late": "逾期交付",
    "stopped": "已终止",
    "none": "未设截止",
}


def due_at(deadline: date) -> datetime:
    """The instant the deadline date ends in Beijing time."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=SHANGHAI)


async def start(order: ServiceOrder, at: datetime) -> None:
    if order.deadline is None:
        return
    minutes = max(1, int((due_at(order.deadline) - at).total_seconds() // 60))
    await start_timer(
        case_type=CASE_TYPE,
        case_id=order.id,
        kind=KIND,
        target_minutes=minutes,
        org_id=order.org_id,
        calendar=CalendarKind.ALWAYS,
        on_breach=(BreachAction.NOTIFY,),
        at=at,
    )


async def finish(order: ServiceOrder, at: datetime, *, met: bool) -> None:
    """Delivered (met) or cancelled (stopped); an order without a running timer has nothing to end."""
    timer = await open_timer(CASE_TYPE, order.id, KIND)
    if timer is not None:
        await (meet_timer if met else stop_timer)(timer.id, at=at)


@dataclass(frozen=True)
class DeadlineView:
    due_at: datetime | None
    state: str  # a key of DEADLINE_STATE_LABELS

    @property
    def label(self) -> str:
        return DEADLINE_STATE_LABELS[self.state]


async def deadline_views(order_ids: list[int], at: datetime) -> dict[int, DeadlineView]:
    """Each order's deadline as it stands at `at`, from one query over their timers."""
    timers = await timer_facts(CASE_TYPE, order_ids, KIND)
    latest = {timer.case_id: timer for timer in timers}
    states = {state.timer_id: state for state in await timer_states(latest.values(), at)}
    views = {order_id: DeadlineView(None, "none") for order_id in order_ids}
    for order_id, timer in latest.items():
        state = states[timer.id]
        name = state.state.value
        if name == "met" and state.breached:
            name = "late"
        views[order_id] = DeadlineView(timer.due_at, name)
    return views
