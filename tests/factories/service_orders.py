"""Service orders at each stage of their life, over HTTP, with the people who act on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx

from models.accounts import StaffRole
from models.orgs import Org
from models.service_orders.tables import ReportArea
from server.clock import now
from tests.factories.common import bearer, login_staff
from tests.factories.enterprises import bound_expert, enterprise_with_contact
from tests.factories.unions import demo_org, make_org, make_staff


def order_body(enterprise_id: int, **overrides: object) -> dict:
    """What 坚派 ordered on 2024-04-12: help before a customer's factory audit in half a month."""
    return {
        "enterprise_id": enterprise_id,
        "category": "factory_audit",
        "title": "客户验厂辅导",
        "description": "重要客户半个月后来验厂，质量认证是短板，请派专家指导。",
        "deadline": (now().date() + timedelta(days=14)).isoformat(),
        "needs": {"industries": ["new_materials"], "skills": ["factory_audit", "quality_system"]},
        **overrides,
    }


@dataclass
class Union:
    """A fresh union with a caseworker and a union admin (their tokens); by default under 中山市总工会,
    where the demo roster (高明区, 佛山, 深圳) does not reach, so that a test's ranking is its own."""

    org: Org
    caseworker: str
    admin: str


async def union(api: httpx.AsyncClient, parent: str = "中山市总工会") -> Union:
    org = await make_org(await demo_org(parent))
    caseworker = await login_staff(api, (await make_staff(org)).username)
    admin = await login_staff(api, (await make_staff(org, StaffRole.UNION_ADMIN)).username)
    return Union(org, caseworker, admin)


@dataclass
class Order:
    contact: str  # the contact's token
    enterprise: dict
    id: int


async def placed_order(api: httpx.AsyncClient, where: Union, *, verified: bool = True, **overrides: object) -> Order:
    """A verified (or pending) enterprise of `where` with its contact, who placed an order."""
    contact, enterprise = await enterprise_with_contact(
        api, where.org.id, staff_token=where.caseworker if verified else None
    )
    answer = await api.post(
        "/api/v1/service-orders", json=order_body(enterprise["id"], **overrides), headers=bearer(contact)
    )
    assert answer.status_code == 201, answer.text
    return Order(contact, enterprise, answer.json()["id"])


async def expert_of(api: httpx.AsyncClient, where: Union, **fields: object) -> tuple[str, dict]:
    """A bound expert on the union's roster serving it; (token, expert JSON)."""
    return await bound_expert(api, where.admin, where.org.id, **{"regions": [where.org.id], **fields})


async def offered(api: httpx.AsyncClient, where: Union, order: Order, expert: dict) -> dict:
    answer = await api.post(
        f"/api/v1/admin/service-orders/{order.id}/assign",
        json={"expert_id": expert["id"]},
        headers=bearer(where.caseworker),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def accepted(api: httpx.AsyncClient, where: Union, order: Order, expert: tuple[str, dict]) -> dict:
    await offered(api, where, order, expert[1])
    answer = await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=bearer(expert[0]))
    assert answer.status_code == 200, answer.text
    return answer.json()


VISIT = {"places": ["lab", "workshop", "warehouse"], "summary": "现场调研：找出关键过程控制点，固化核心工艺参数。"}


async def in_progress(api: httpx.AsyncClient, where: Union, order: Order, expert: tuple[str, dict]) -> dict:
    await accepted(api, where, order, expert)
    answer = await api.post(
        f"/api/v1/service-orders/{order.id}/visits",
        json={**VISIT, "visited_at": now().isoformat()},
        headers=bearer(expert[0]),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def report_body(count: int = 4) -> dict:
    """A rectification report of `count` items spread over the four areas."""
    areas = [area.value for area in ReportArea]
    return {
        "items": [
            {
                "area": areas[n % len(areas)],
                "title": f"整改意见 {n + 1}",
                "score": 5,
                "max_score": 10,
                "target_score": 8,
                "guidance": "编写标准作业指导书",
                "department": "品质部",
            }
            for n in range(count)
        ]
    }


async def report_items(api: httpx.AsyncClient, order_id: int, expert_token: str, count: int = 4) -> dict:
    """The expert writes the report's items through the API."""
    answer = await api.put(
        f"/api/v1/service-orders/{order_id}/report", json=report_body(count), headers=bearer(expert_token)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def delivered(api: httpx.AsyncClient, where: Union, order: Order, expert: tuple[str, dict]) -> dict:
    await in_progress(api, where, order, expert)
    await report_items(api, order.id, expert[0])
    answer = await api.post(f"/api/v1/service-orders/{order.id}/deliver", headers=bearer(expert[0]))
    assert answer.status_code == 200, answer.text
    return answer.json()
