"""The 坚派 story end to end over HTTP (DOMAIN.md §1): the enterprise's order, the union's pairing
with 张国明 among a varied roster, his visit and 312-item report, the enterprise working the items
and passing its audit, the rating, and the long-term engagement with its 2025-03-10 training."""

from __future__ import annotations

import httpx

from server.clock import now
from tests.factories.common import bearer
from tests.factories.service_orders import VISIT, expert_of, placed_order, union

ROSTER = {
    "张国明": {
        "titles": ["south_guangdong_craftsman", "foshan_engineer"],
        "industries": ["new_materials", "coatings"],
        "skills": ["factory_audit", "quality_system", "process_control", "standard_work", "pdca"],
        "years": 29,
        "patents": {"us_invention": 3, "cn_invention": 12, "utility_model": 5},
        "standards": {"national": 2, "group": 10},
        "max_active_orders": 3,
    },
    "涂料老师傅": {
        "industries": ["coatings"],
        "skills": ["process_control"],
        "years": 30,
        "patents": {"us_invention": 0, "cn_invention": 1, "utility_model": 2},
        "standards": {"national": 0, "group": 1},
    },
    "电子工程师": {
        "industries": ["electronics"],
        "skills": ["factory_audit", "quality_system"],
        "years": 12,
        "patents": {"us_invention": 0, "cn_invention": 2, "utility_model": 0},
        "standards": {"national": 0, "group": 0},
    },
    "新材料青年工匠": {
        "industries": ["new_materials"],
        "skills": ["quality_system"],
        "years": 6,
        "patents": {"us_invention": 0, "cn_invention": 0, "utility_model": 1},
        "standards": {"national": 0, "group": 0},
    },
}
AREAS = ("quality_management", "rd_process", "production", "business_management")
DEPARTMENTS = ("品检部", "研发部", "生产部", "综合部")


def rectification_items(count: int = 312) -> list[dict]:
    return [
        {
            "area": AREAS[n % 4],
            "title": f"整改意见第{n + 1}条",
            "score": 3 + n % 5,
            "max_score": 10,
            "target_score": min(10, 6 + n % 5),
            "guidance": "编写标准作业指导书，按 PDCA 循环复核",
            "department": DEPARTMENTS[(n // 4) % 4],
        }
        for n in range(count)
    ]


async def test_the_jianpai_story(api: httpx.AsyncClient) -> None:
    # 高明区总工会 (a fresh union here) keeps a roster; only 张国明 fits the order on every count.
    where = await union(api)
    experts = {name: await expert_of(api, where, name=name, **fields) for name, fields in ROSTER.items()}
    zhang_token, zhang = experts["张国明"]

    # 2024-04-12: 张余英 orders help before a customer's factory audit in half a month.
    order = await placed_order(api, where, title="客户验厂前的质量体系辅导")
    contact = bearer(order.contact)
    staff = bearer(where.caseworker)

    # The union pairs it: 张国明 first, and the reasons say why.
    ranked = (await api.get(f"/api/v1/admin/service-orders/{order.id}/candidates", headers=staff)).json()
    ours = [item for item in ranked["items"] if item["expert_id"] in {e["id"] for _, e in experts.values()}]
    first = ours[0]
    assert first["name"] == "张国明"
    assert first["score"] > ours[1]["score"]
    labels = " ".join(reason["label"] for reason in first["reasons"])
    for why in ("新材料", "验厂", "质量体系"):
        assert why in labels, labels
    codes = {reason["code"] for reason in first["reasons"]}
    assert {"industry", "years", "patents", "standards"} <= codes, codes
    assert sum(reason["points"] for reason in first["reasons"]) == first["score"]
    assigned = await api.post(
        f"/api/v1/admin/service-orders/{order.id}/assign", json={"expert_id": zhang["id"]}, headers=staff
    )
    assert assigned.json()["status"] == "offered"

    # He accepts, and the next morning visits the lab, workshop and warehouse.
    expert = bearer(zhang_token)
    assert (await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=expert)).json()[
        "status"
    ] == "accepted"
    visit = await api.post(
        f"/api/v1/service-orders/{order.id}/visits", json={**VISIT, "visited_at": now().isoformat()}, headers=expert
    )
    assert visit.status_code == 201
    assert (await api.get(f"/api/v1/service-orders/{order.id}", headers=contact)).json()["status"] == "in_progress"

    # Two days later: 312 scored rectification items in four areas, saved in one request.
    items = rectification_items()
    saved = await api.put(f"/api/v1/service-orders/{order.id}/report", json={"items": items}, headers=expert)
    assert saved.status_code == 200, saved.text
    delivered = await api.post(f"/api/v1/service-orders/{order.id}/deliver", headers=expert)
    assert delivered.json()["status"] == "delivered"

    # The enterprise reads the report, with a summary per area that matches the items.
    report = (await api.get(f"/api/v1/service-orders/{order.id}/report", headers=contact)).json()
    assert len(report["items"]) == 312
    for area in AREAS:
        mine = [item for item in items if item["area"] == area]
        figures = report["summary"][area]
        assert figures["items"] == len(mine)
        assert abs(figures["average_score"] - sum(i["score"] for i in mine) / len(mine)) < 0.01
        assert figures["done"] == 0

    # Its departments work the items (PDCA): the quality department closes its items at their targets.
    quality = [item for item in report["items"] if item["department"] == "品检部"]
    for item in quality:
        answer = await api.patch(
            f"/api/v1/service-orders/{order.id}/report/items/{item['id']}",
            json={"status": "done", "current_score": item["target_score"]},
            headers=contact,
        )
        assert answer.status_code == 200, answer.text
    after = (await api.get(f"/api/v1/service-orders/{order.id}/report", headers=contact)).json()
    assert sum(figures["done"] for figures in after["summary"].values()) == len(quality)
    department = next(figures for figures in after["by_department"] if figures["department"] == "品检部")
    assert department["average_current"] > department["average_score"]

    # One week later the customer audit is passed; the enterprise confirms and rates the service.
    confirmed = await api.post(
        f"/api/v1/service-orders/{order.id}/confirm",
        json={"outcome": "客户验厂一次通过", "note": "订单随之而来"},
        headers=contact,
    )
    assert confirmed.json()["status"] == "confirmed"
    rated = await api.post(
        f"/api/v1/service-orders/{order.id}/rating", json={"score": 5, "comment": "专家专业、及时"}, headers=contact
    )
    assert rated.status_code in (200, 201), rated.text
    detail = (await api.get(f"/api/v1/service-orders/{order.id}", headers=contact)).json()
    assert detail["status"] == "closed" and detail["expert"]["name"] == "张国明"
    assert [step["action"] for step in detail["timeline"]] == [
        "submit",
        "offer",
        "accept",
        "first_visit",
        "deliver",
        "confirm",
        "rate",
    ]

    # End of April 2024: appointed 首席质量官; 2025-03-10: a lean-production and traceability training.
    admin = bearer(where.admin)
    engagement = await api.post(
        "/api/v1/admin/engagements",
        json={
            "enterprise_id": order.enterprise["id"],
            "expert_id": zhang["id"],
            "role": "首席质量官",
            "starts_on": "2024-04-30",
            "ends_on": None,
            "order_id": order.id,
        },
        headers=admin,
    )
    assert engagement.status_code == 201, engagement.text
    training = await api.post(
        f"/api/v1/admin/engagements/{engagement.json()['id']}/trainings",
        json={"topic": "精益生产与质量追溯", "held_on": "2025-03-10", "attendees": 46},
        headers=admin,
    )
    assert training.status_code == 201, training.text
    seen = (await api.get(f"/api/v1/enterprises/{order.enterprise['id']}/engagements", headers=contact)).json()
    assert [(e["role"], e["expert_name"]) for e in seen["items"]] == [("首席质量官", "张国明")]
    assert [(t["topic"], t["held_on"]) for t in seen["items"][0]["trainings"]] == [("精益生产与质量追溯", "2025-03-10")]

    # Every step reached the enterprise's inbox, and the union's figures count the service.
    inbox = (await api.get("/api/v1/me/inbox", headers=contact)).json()["items"]
    told = {n["event"] for n in inbox if n["object_type"] == "service_order" and n["object_id"] == str(order.id)}
    assert {f"service_order.{step}" for step in ("submit", "accept", "first_visit", "deliver")} <= told, told
    stats = (await api.get("/api/v1/admin/stats", params={"org_id": where.org.id}, headers=staff)).json()
    assert stats["service_orders"]["by_status"]["closed"] == 1
    assert stats["satisfaction"]["by_service"]["service_order"]["count"] == 1

    # Another union's caseworker does not see any of it.
    elsewhere = await union(api, parent="深圳市总工会")
    hidden = await api.get(f"/api/v1/admin/service-orders/{order.id}", headers=bearer(elsewhere.caseworker))
    assert hidden.status_code == 404
