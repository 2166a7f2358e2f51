"""The matching panel over HTTP: who is listed, the warnings that need the database (employer,
engagements and orders at competitors), and its speed on a roster of 5,000 experts."""

from __future__ import annotations

import time
from datetime import date

import httpx

from models.engagements.tables import Engagement
from models.experts.tables import Expert
from models.orgs import Org
from tests.factories.common import bearer
from tests.factories.service_orders import accepted, expert_of, placed_order, union
from tests.factories.unions import make_org


async def _candidates(api: httpx.AsyncClient, token: str, order_id: int, **params: object) -> list[dict]:
    answer = await api.get(
        f"/api/v1/admin/service-orders/{order_id}/candidates",
        params={"page_size": 100, **params},
        headers=bearer(token),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_warnings_and_who_is_listed(api: httpx.AsyncClient) -> None:
    where = await union(api)
    order = await placed_order(api, where)
    enterprise_id = order.enterprise["id"]
    _, employee = await expert_of(api, where)
    await Expert.filter(id=employee["id"]).update(employer_enterprise_id=enterprise_id)
    # A competitor (same industry) of the same union engaged one expert and is served by another.
    rival = await placed_order(api, where)
    _, engaged = await expert_of(api, where)
    await Engagement.create(
        enterprise_id=rival.enterprise["id"],
        expert_id=engaged["id"],
        org_id=where.org.id,
        role="首席质量官",
        starts_on=date(2024, 4, 30),
        created_by_id=1,
    )
    serving = await expert_of(api, where)
    await accepted(api, where, rival, serving)
    # An expert of a neighbouring union serving only it is not listed; one serving 中山 (above
    # both unions, so within what its admin may name as a region) is.
    elsewhere = await union(api)
    _, stranger = await expert_of(api, elsewhere)
    zhongshan = await Org.get(name="中山市总工会")
    _, travelling = await expert_of(api, elsewhere, regions=[zhongshan.id])
    found = {item["expert_id"]: item for item in await _candidates(api, where.caseworker, order.id)}
    assert stranger["id"] not in found and travelling["id"] in found
    assert "服务区域：中山市总工会" in [r["label"] for r in found[travelling["id"]]["reasons"]]
    assert [w["code"] for w in found[employee["id"]]["warnings"]] == ["employed_by_enterprise"]
    assert [w["code"] for w in found[engaged["id"]]["warnings"]] == ["engaged_by_competitor"]
    assert [w["code"] for w in found[serving[1]["id"]]["warnings"]] == ["serving_competitor"]
    assert found[serving[1]["id"]]["active_orders"] == 1


async def test_five_thousand_experts(api: httpx.AsyncClient) -> None:
    """A roster of 5,000 under one union: the call stays within a few seconds on a loaded machine."""
    where = await union(api)
    pool = await make_org(where.org)
    skills = ["factory_audit", "quality_system", "lean", "cnc", "welding", "pdca"]
    industries = ["new_materials", "machinery", "coatings", "electronics"]
    await Expert.bulk_create(
        [
            Expert(
                org_id=pool.id,
                name=f"专家{n}",
                industries=[industries[n % 4]],
                skills=skills[n % 6 : n % 6 + 2],
                regions=[pool.id] if n % 3 else [],
                years=n % 40,
                patents_cn_invention=n % 7,
                standards_group=n % 5,
                max_active_orders=1 + n % 3,
            )
            for n in range(5000)
        ],
        batch_size=1000,
    )
    order = await placed_order(api, where)
    best = await expert_of(
        api,
        where,
        name="张国明",
        years=29,
        industries=["new_materials"],
        skills=["factory_audit", "quality_system"],
        patents={"us_invention": 3, "cn_invention": 12, "utility_model": 4},
        standards={"national": 2, "group": 10},
    )
    await _candidates(api, where.caseworker, order.id)  # warm up
    started = time.perf_counter()
    items = await _candidates(api, where.caseworker, order.id, page_size=20)
    elapsed = time.perf_counter() - started
    total = (
        await api.get(f"/api/v1/admin/service-orders/{order.id}/candidates", headers=bearer(where.caseworker))
    ).json()["total"]
    assert total >= 5001
    assert items[0]["expert_id"] == best[1]["id"] and len(items) == 20
    assert elapsed < 3.0, f"candidates for 5,000 experts took {elapsed:.2f}s"
    print(f"\ncandidates over {total} experts: {elapsed * 1000:.0f} ms")
    # Off the roster again, so that other tests' panels of this district are not 5,000 long.
    await Expert.filter(org_id=pool.id).update(active=False)
