"""Orders at the stage where a report is written or tracked, with their enterprise's contact and
their expert logged in.

The enterprise (verified) and the expert (bound) come through the API. Until the order flow
(placing, matching, accepting, delivering) is merged, the order itself is written directly with
the ORM, and `move_order` stands for the transitions the tests need."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from models.accounts import StaffRole
from models.enterprises.tables import Enterprise
from models.orgs import Org
from models.service_orders.tables import OrderStatus, ServiceOrder
from server.clock import now
from tests.factories.common import login_staff
from tests.factories.enterprises import bound_expert, enterprise_with_contact
from tests.factories.unions import demo_org, make_org, make_staff


@dataclass
class OrderWorld:
    order_id: int
    org: Org
    admin_token: str
    enterprise_id: int
    expert_id: int
    expert_token: str
    contact_token: str


async def order_with_expert(
    api: httpx.AsyncClient, status: OrderStatus = OrderStatus.ACCEPTED, *, org: Org | None = None
) -> OrderWorld:
    """An order accepted by an expert, in `status`, in a union of its own under 高明区总工会."""
    org = org or await make_org(await demo_org("高明区总工会"))
    admin_token = await login_staff(api, (await make_staff(org, StaffRole.UNION_ADMIN)).username)
    contact_token, enterprise = await enterprise_with_contact(api, org.id, staff_token=admin_token)
    expert_token, expert = await bound_expert(api, admin_token, org.id, name="张国明")
    order = await ServiceOrder.create(
        enterprise_id=enterprise["id"],
        org_id=org.id,
        created_by_id=(await Enterprise.get(id=enterprise["id"])).created_by_id,
        category="factory_audit",
        title="验厂前质量体系辅导",
        status=status,
        expert_id=expert["id"],
        created_at=now(),
    )
    return OrderWorld(order.id, org, admin_token, enterprise["id"], expert["id"], expert_token, contact_token)


async def move_order(order_id: int, status: OrderStatus) -> None:
    """Put the order in `status` (delivery, confirmation ...) as its transitions would."""
    changes: dict[str, object] = {"status": status}
    if status == OrderStatus.DELIVERED:
        changes["delivered_at"] = now()
    await ServiceOrder.filter(id=order_id).update(**changes)
