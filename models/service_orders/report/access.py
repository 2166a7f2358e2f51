"""Who may see an order's report, and in which capacity.

The expert who accepted the order writes it; the enterprise's contacts read it and, after
delivery, track it. A worker who is neither does not learn that the order exists (404); one who
is the other party is known and refused (403)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.enterprises.queries import contact_scope
from models.errors import Forbidden
from models.experts.queries import expert_of_user
from models.scope import Scope
from models.service_orders.tables import ServiceOrder


class ReportRole(StrEnum):
    EXPERT = "expert"
    CONTACT = "contact"


@dataclass(frozen=True)
class ReportReader:
    order: ServiceOrder
    roles: frozenset[ReportRole]


async def report_reader(user_id: int, order_id: int) -> ReportReader:
    """The order and what the worker is to it; 404 when they are neither its expert nor a contact
    of its enterprise."""
    order = await ServiceOrder.get_or_none(id=order_id)
    roles: set[ReportRole] = set()
    if order is not None:
        expert = await expert_of_user(user_id)
        if expert is not None and order.expert_id == expert.id:
            roles.add(ReportRole.EXPERT)
        if order.enterprise_id in (await contact_scope(user_id)).enterprise_ids:
            roles.add(ReportRole.CONTACT)
    if order is None or not roles:
        raise Scope.not_found({"id": order_id})
    return ReportReader(order, frozenset(roles))


async def order_as(user_id: int, order_id: int, role: ReportRole) -> ServiceOrder:
    """The order, when the worker acts on it in `role`; 403 when they only read it."""
    reader = await report_reader(user_id, order_id)
    if role not in reader.roles:
        if role == ReportRole.EXPERT:
            raise Forbidden("service_order.not_expert", "只有接单的专家可以编写整改报告")
        raise Forbidden("service_order.not_contact", "只有企业联系人可以跟踪整改进度")
    return reader.order
