"""Orders at the stage where a report is written or tracked, through the real order flow (placed,
offered, accepted, visited, delivered, confirmed, rated), with the contact and expert logged in."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from models.orgs import Org
from models.service_orders.tables import OrderStatus, ServiceOrder
from server.clock import now
from tests.factories.common import bearer
from tests.factories.service_orders import VISIT, Order, Union, accepted, expert_of, placed_order, union

S = OrderStatus
# The steps forward from each status, as the people who take them take them.
FORWARD = (S.ACCEPTED, S.IN_PROGRESS, S.DELIVERED, S.CONFIRMED, S.CLOSED)
# A short report, for orders that must be delivered before the test's own work.
SHORT_REPORT = [
    {
        "area": "quality_management",
        "title": "来料检验记录不完整",
        "score": 5,
        "target_score": 8,
        "department": "质检部",
    },
    {"area": "production", "title": "关键工序未形成作业指导书", "score": 4, "department": "研发部"},
]


@dataclass
class OrderWorld:
    order_id: int
    where: Union  # the order's union, with a caseworker's and a union admin's token
    enterprise_id: int
    expert_id: int
    expert_token: str
    contact_token: str

    @property
    def org(self) -> Org:
        return self.where.org

    @property
    def admin_token(self) -> str:
        return self.where.admin


async def order_with_expert(
    api: httpx.AsyncClient, status: OrderStatus = S.ACCEPTED, *, where: Union | None = None
) -> OrderWorld:
    """An order accepted by an expert (张国明) and carried on to `status`; one delivered or later
    holds `SHORT_REPORT`."""
    where = where or await union(api, "高明区总工会")
    order: Order = await placed_order(api, where)
    expert = await expert_of(api, where, name="张国明")
    await accepted(api, where, order, expert)
    world = OrderWorld(order.id, where, order.enterprise["id"], expert[1]["id"], expert[0], order.contact)
    if FORWARD.index(status) > FORWARD.index(S.IN_PROGRESS):
        saved = await api.put(
            f"/api/v1/service-orders/{order.id}/report", json={"items": SHORT_REPORT}, headers=bearer(expert[0])
        )
        assert saved.status_code == 200, saved.text
    await advance(api, world, status)
    return world


async def advance(api: httpx.AsyncClient, world: OrderWorld, status: OrderStatus) -> None:
    """Carry the order forward to `status`: the expert's first visit, the delivery, the
    enterprise's confirmation and rating."""
    current = (await ServiceOrder.get(id=world.order_id)).status
    path = f"/api/v1/service-orders/{world.order_id}"
    for step in FORWARD[FORWARD.index(current) + 1 : FORWARD.index(status) + 1]:
        if step == S.IN_PROGRESS:
            body = {**VISIT, "visited_at": now().isoformat()}
            answer = await api.post(f"{path}/visits", json=body, headers=bearer(world.expert_token))
        elif step == S.DELIVERED:
            answer = await api.post(f"{path}/deliver", headers=bearer(world.expert_token))
        elif step == S.CONFIRMED:
            body = {"outcome": "客户验厂通过", "note": "一周后通过验厂"}
            answer = await api.post(f"{path}/confirm", json=body, headers=bearer(world.contact_token))
        else:
            answer = await api.post(f"{path}/rating", json={"score": 5}, headers=bearer(world.contact_token))
        assert answer.status_code in (200, 201), answer.text
    assert (await ServiceOrder.get(id=world.order_id)).status == status
