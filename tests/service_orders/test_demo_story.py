"""The 坚派 story as a newcomer's `make run` shows it: the order carried to its rating, the report,
the engagement with its training, and a second order waiting for matching."""

from __future__ import annotations

import httpx

from tests.conftest import DEMO_PASSWORD
from tests.factories.common import bearer, login_staff, login_worker


async def test_the_demo_tells_the_jianpai_story(api: httpx.AsyncClient) -> None:
    token, _ = await login_worker(api, "zhang-yuying")
    contact = bearer(token)
    enterprise = next(
        e for e in (await api.get("/api/v1/me/enterprises", headers=contact)).json()["items"] if "坚派" in e["name"]
    )
    orders = (await api.get("/api/v1/service-orders", headers=contact)).json()["items"]
    by_status = {order["status"]: order for order in orders if order["enterprise"]["id"] == enterprise["id"]}
    assert set(by_status) == {"closed", "submitted"}
    done = (await api.get(f"/api/v1/service-orders/{by_status['closed']['id']}", headers=contact)).json()
    assert done["expert"]["name"] == "张国明" and done["outcome"] == "客户验厂一次通过"
    report = (await api.get(f"/api/v1/service-orders/{done['id']}/report", headers=contact)).json()
    assert len(report["items"]) == 312 and set(report["summary"]) == {
        "quality_management",
        "rd_process",
        "production",
        "business_management",
    }
    assert 0 < sum(area["done"] for area in report["summary"].values()) < 312
    engagements = (await api.get(f"/api/v1/enterprises/{enterprise['id']}/engagements", headers=contact)).json()
    assert [(e["role"], e["expert_name"], e["starts_on"]) for e in engagements["items"]] == [
        ("首席质量官", "张国明", "2024-04-30")
    ]
    assert [t["held_on"] for t in engagements["items"][0]["trainings"]] == ["2025-03-10"]

    # 高明's union admin sees the waiting order with 张国明 ranked first for it.
    staff = bearer(await login_staff(api, "gaoming", DEMO_PASSWORD))
    waiting = by_status["submitted"]["id"]
    ranked = (await api.get(f"/api/v1/admin/service-orders/{waiting}/candidates", headers=staff)).json()
    assert ranked["items"][0]["name"] == "张国明"
