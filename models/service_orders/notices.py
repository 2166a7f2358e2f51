"""What the enterprise's contacts, the expert and the union are told at each step of an order.

Contacts and experts are WeChat users: they get an inbox entry and, for what others did, a
WeChat message through the outbox. The union has no WeChat inbox: it gets a desk alert
(`alert_union`) for what its caseworker acts on or should know: a new order, an offer declined
or run out, the enterprise calling the order off, a deadline at risk or passed. Every call is
made from a step's effects, inside the step's transaction.
"""

from __future__ import annotations

from datetime import datetime

from models.enterprises.tables import Enterprise, EnterpriseContact
from models.experts.tables import Expert
from models.kernel.machine import Step
from models.notifications.outbox import Event, notify
from models.notifications.staff_alerts import alert_union
from models.service_orders.tables import CASE_TYPE, ORDER_STATUS_LABELS, ServiceOrder
from server.clock import SHANGHAI

# To the enterprise's contacts: (title, body); the body may name {title}, {expert}, {note}.
TO_CONTACTS = {
    "submit": ("服务订单已提交", "您的“{title}”订单已提交，工会将为您匹配劳模工匠。"),
    "accept": ("专家已接单", "{expert}已接下您的“{title}”订单，将与您联系上门服务。"),
    "first_visit": ("专家已上门服务", "{expert}已到企业开展“{title}”服务。"),
    "deliver": ("整改报告已交付", "{expert}已交付“{title}”的整改报告，请查看并确认服务成效。"),
    "confirm": ("服务成效已确认", "“{title}”：{note}。请对本次服务进行评价。"),
    "cancel": ("服务订单已取消", "“{title}”已取消：{note}"),
    "cancel_by_union": ("服务订单已被工会取消", "“{title}”已被工会取消：{note}"),
}
# To the expert (when their WeChat account is bound).
TO_EXPERT = {
    "offer": ("新的服务邀请", "{enterprise}的“{title}”邀请您服务，请于{respond_by}前答复。"),
    "cancel": ("服务订单已取消", "{enterprise}的“{title}”已取消：{note}"),
    "cancel_by_union": ("服务订单已取消", "{enterprise}的“{title}”已被工会取消：{note}"),
    "confirm": ("企业已确认服务成效", "{enterprise}确认了“{title}”的成效：{note}"),
    "rate": ("企业评价了您的服务", "{enterprise}对“{title}”的评价：{note}"),
    "offer_expired": ("服务邀请已失效", "{enterprise}的“{title}”邀请未在期限内答复，已失效，工会将另行安排。"),
}
# To the union's desk.
TO_UNION = {
    "submit": ("新的服务订单", "{enterprise}提交了“{title}”，请匹配劳模工匠。"),
    "cancel": ("企业取消了服务订单", "{enterprise}取消了“{title}”：{note}"),
    "decline": ("专家婉拒了派单", "{expert}婉拒了{enterprise}的“{title}”：{note}。请重新匹配。"),
    "offer_expired": ("专家未按时答复", "{expert}未在期限内答复{enterprise}的“{title}”，请重新匹配。"),
    "at_risk": ("服务订单临近截止", "{enterprise}的“{title}”将于{note}截止，尚未交付报告。"),
    "breached": ("服务订单已逾期", "{enterprise}的“{title}”已过截止日期{note}，尚未交付报告。"),
}


def _local(instant: str | None) -> str:
    if not instant:
        return ""
    moment = datetime.fromisoformat(instant).astimezone(SHANGHAI)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def _page(order: ServiceOrder) -> str:
    return f"pages/service-orders/detail?id={order.id}"


async def tell(order: ServiceOrder, step: Step, *, expert: Expert | None = None, note: str = "") -> None:
    """The step's notices to contacts and to the expert, as the tables above say."""
    enterprise = await Enterprise.get(id=order.enterprise_id)
    words = {
        "title": order.title,
        "enterprise": enterprise.name,
        "expert": expert.name if expert else "专家",
        "note": note or ORDER_STATUS_LABELS[order.status],
        "respond_by": _local(step.data.get("respond_by")),
    }
    values = {"status": ORDER_STATUS_LABELS[order.status], "org": enterprise.name, "note": note or order.title}
    if step.action in TO_CONTACTS:
        title, body = TO_CONTACTS[step.action]
        contacts = await EnterpriseContact.filter(enterprise_id=order.enterprise_id).values_list("user_id", flat=True)
        for user_id in contacts:
            event = Event(
                f"{CASE_TYPE}.{step.action}",
                title,
                body.format(**words)[:500],
                CASE_TYPE,
                order.id,
                order.org_id,
                _page(order),
                values,
                # What a contact did themselves needs no WeChat message, only the inbox entry.
                push=step.actor.kind != "contact",
            )
            await notify(user_id, event)
    if step.action in TO_EXPERT and expert is not None and expert.user_id is not None:
        title, body = TO_EXPERT[step.action]
        event = Event(
            f"{CASE_TYPE}.expert_{step.action}",
            title,
            body.format(**words)[:500],
            CASE_TYPE,
            order.id,
            order.org_id,
            f"pages/expert/assignment?id={order.id}",
            values,
        )
        await notify(expert.user_id, event)


async def alert(order: ServiceOrder, kind: str, at: datetime, *, expert_name: str = "专家", note: str = "") -> None:
    """Tell the order's union something needs a caseworker (see TO_UNION)."""
    enterprise = await Enterprise.get(id=order.enterprise_id)
    title, body = TO_UNION[kind]
    text = body.format(title=order.title, enterprise=enterprise.name, expert=expert_name, note=note)
    await alert_union(order.org_id, f"{CASE_TYPE}.{kind}", CASE_TYPE, order.id, title, text, at)
