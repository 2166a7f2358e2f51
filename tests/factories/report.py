"""Orders at the stage where a report is written or tracked, with their enterprise's contact and
their expert logged in.

Until the order flow (placing, matching, accepting, delivering) is merged, the order, its
enterprise, contact and expert are written directly with the ORM; `move_order` stands for the
transitions the tests need."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from models.enterprises.tables import Enterprise, EnterpriseContact, EnterpriseStatus
from models.experts.tables import Expert
from models.orgs import Org
from models.service_orders.tables import OrderStatus, ServiceOrder
from server.clock import now
from tests.factories.common import login_worker, unique
from tests.factories.unions import demo_org, make_org


@dataclass
class OrderWorld:
    order_id: int
    org: Org
    enterprise_id: int
    expert_id: int
    expert_token: str
    contact_token: str


async def enterprise_and_contact(api: httpx.AsyncClient, org: Org) -> tuple[Enterprise, str]:
    """A verified enterprise of `org` and a logged-in contact of it."""
    token, login = await login_worker(api)
    enterprise = await Enterprise.create(
        name=unique("广东测试新材料有限公司"),
        credit_code=uuid.uuid4().hex[:18].upper(),
        industry="new_materials",
        org_id=org.id,
        status=EnterpriseStatus.VERIFIED,
        verified_at=now(),
        created_by_id=login["user"]["id"],
    )
    await EnterpriseContact.create(enterprise_id=enterprise.id, user_id=login["user"]["id"])
    return enterprise, token


async def expert_with_account(api: httpx.AsyncClient, org: Org, name: str = "张国明") -> tuple[Expert, str]:
    """An expert on `org`'s roster bound to a logged-in WeChat account."""
    token, login = await login_worker(api)
    expert = await Expert.create(org_id=org.id, name=name, industries=["new_materials"], user_id=login["user"]["id"])
    return expert, token


async def order_with_expert(
    api: httpx.AsyncClient, status: OrderStatus = OrderStatus.ACCEPTED, *, org: Org | None = None
) -> OrderWorld:
    """An order accepted by an expert, in `status`, in a union of its own under 高明区总工会."""
    org = org or await make_org(await demo_org("高明区总工会"))
    enterprise, contact_token = await enterprise_and_contact(api, org)
    expert, expert_token = await expert_with_account(api, org)
    order = await ServiceOrder.create(
        enterprise_id=enterprise.id,
        org_id=org.id,
        created_by_id=enterprise.created_by_id,
        category="factory_audit",
        title="验厂前质量体系辅导",
        status=status,
        expert_id=expert.id,
        created_at=now(),
    )
    return OrderWorld(order.id, org, enterprise.id, expert.id, expert_token, contact_token)


async def move_order(order_id: int, status: OrderStatus) -> None:
    """Put the order in `status` (delivery, confirmation ...) as its transitions would."""
    changes: dict[str, object] = {"status": status}
    if status == OrderStatus.DELIVERED:
        changes["delivered_at"] = now()
    await ServiceOrder.filter(id=order_id).update(**changes)
