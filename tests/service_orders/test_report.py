"""The rectification report over HTTP: the expert saves hundreds of items in one request, the
figures per area and department, who may write and when, and the enterprise's tracking."""

from __future__ import annotations

import time
from typing import Any

import httpx

from models.accounts import StaffRole
from models.service_orders.report.summary import report_summary
from models.service_orders.tables import OrderStatus, ReportItem
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.enterprises import bound_expert
from tests.factories.report import advance, order_with_expert
from tests.factories.unions import demo_org, make_staff

AREAS = ["quality_management", "rd_process", "production", "business_management"]
DEPARTMENTS = ["研发部", "质检部", "销售部", "综合部"]


def sample_items(count: int = 320) -> list[dict[str, Any]]:
    """Varied items: half points, a smaller full score, missing targets and departments, a title
    that looks like a formula."""
    items = []
    for n in range(count):
        max_score = 5.0 if n % 10 == 9 else 10.0
        score = ((n * 7) % 21) / 2 * max_score / 10
        item: dict[str, Any] = {
            "area": AREAS[n % 4],
            "title": f"第{n + 1}项：关键工序{n}的过程控制未形成作业指导书",
            "score": score,
            "max_score": max_score,
            "guidance": f"编写标准作业指导书，固化工艺参数 {n}，按 PDCA 循环复核",
            "department": "" if n % 7 == 6 else DEPARTMENTS[(n // 4) % 4],
        }
        if n % 5 != 4:
            item["target_score"] = min(max_score, score + 2)
        items.append(item)
    items[0]["title"] = "=来料检验记录不完整"
    return items


def expected_items(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "area": i["area"],
            "title": i["title"],
            "score": i["score"],
            "max_score": i.get("max_score", 10.0),
            "target_score": i.get("target_score", i.get("max_score", 10.0)),
            "current_score": None,
            "status": "open",
            "guidance": i.get("guidance", ""),
            "department": i.get("department", ""),
        }
        for i in sent
    ]


def stored_view(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("area", "title", "score", "max_score", "target_score", "current_score", "status", "guidance", "department")
    return [{k: i[k] for k in keys} for i in items]


def _avg(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def expected_figures(items: list[dict[str, Any]]) -> dict[str, Any]:
    now = [i["score"] if i["current_score"] is None else i["current_score"] for i in items]
    return {
        "items": len(items),
        "average_score": _avg([i["score"] for i in items]),
        "average_current": _avg(now),
        "average_target": _avg([i["target_score"] for i in items]),
        "gap_to_target": _avg([max(0.0, i["target_score"] - c) for i, c in zip(items, now, strict=True)]),
        "done": sum(i["status"] == "done" for i in items),
        "in_progress": sum(i["status"] == "in_progress" for i in items),
        "open": sum(i["status"] == "open" for i in items),
    }


def check_figures(report: dict[str, Any]) -> None:
    items = report["items"]
    for area in AREAS:
        got = {k: v for k, v in report["summary"][area].items() if k != "label"}
        assert got == expected_figures([i for i in items if i["area"] == area]), area
    departments: dict[str, list[dict[str, Any]]] = {}
    for i in items:
        departments.setdefault(i["department"] or "未指定部门", []).append(i)
    assert [d["department"] for d in report["by_department"]] == list(departments)
    for d in report["by_department"]:
        assert {k: v for k, v in d.items() if k != "department"} == expected_figures(departments[d["department"]])
    assert report["overall"] == expected_figures(items)


async def test_hundreds_of_items_in_one_request_read_back_exactly(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api, OrderStatus.IN_PROGRESS)
    path = f"/api/v1/service-orders/{world.order_id}/report"
    sent = sample_items(320)
    started = time.perf_counter()
    saved = await api.put(path, json={"items": sent}, headers=bearer(world.expert_token))
    elapsed = time.perf_counter() - started
    assert saved.status_code == 200, saved.text
    assert elapsed < 1.0, f"saving 320 items took {elapsed:.2f}s"

    for reader in (world.expert_token, world.contact_token):
        report = (await api.get(path, headers=bearer(reader))).json()
        assert report["total"] == 320 and report["editable"] is True and report["trackable"] is False
        assert stored_view(report["items"]) == expected_items(sent)
        assert [i["position"] for i in report["items"]] == list(range(320))
        check_figures(report)
    assert report["summary"]["quality_management"]["label"] == "质量管理"
    assert saved.json()["items"] == report["items"]
    # What the order's detail shows is the same summary.
    figures = await report_summary(world.order_id)
    assert {k: report[k] for k in ("summary", "by_department", "overall")} == figures

    # The whole list replaces the previous one.
    replaced = await api.put(path, json={"items": sent[:3]}, headers=bearer(world.expert_token))
    assert replaced.json()["total"] == 3
    assert await ReportItem.filter(order_id=world.order_id).count() == 3


async def test_a_bad_item_is_named_by_its_index_and_nothing_changes(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api)
    path = f"/api/v1/service-orders/{world.order_id}/report"
    good = sample_items(20)
    await api.put(path, json={"items": good}, headers=bearer(world.expert_token))
    cases = [
        (7, {"score": 11}, "score"),
        (3, {"max_score": 5, "score": 6}, "score"),
        (12, {"target_score": 12}, "target_score"),
        (4, {"area": "海外市场"}, "area"),
        (0, {"title": ""}, "title"),
        (19, {"max_score": 0}, "max_score"),
        (5, {"max_score": 101}, "max_score"),
        (2, {"score": -1}, "score"),
    ]
    for index, change, field in cases:
        items = [dict(i) for i in good]
        items[index].update(change)
        answer = await api.put(path, json={"items": items}, headers=bearer(world.expert_token))
        error = assert_error(answer, 422, "report.item_invalid")
        assert (error["details"]["index"], error["details"]["field"]) == (index, field), (change, error)
        assert f"第 {index + 1} 条" in error["message"]
    too_many = await api.put(path, json={"items": [good[0]] * 2001}, headers=bearer(world.expert_token))
    assert too_many.status_code == 422
    report = (await api.get(path, headers=bearer(world.expert_token))).json()
    assert stored_view(report["items"]) == expected_items(good)


async def test_only_the_accepted_expert_writes_and_only_before_delivery(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api)
    path = f"/api/v1/service-orders/{world.order_id}/report"
    body = {"items": sample_items(5)}
    assert_error(await api.put(path, json=body, headers=bearer(world.contact_token)), 403, "service_order.not_expert")
    stranger, _ = await login_worker(api)
    assert_error(await api.put(path, json=body, headers=bearer(stranger)), 404, "record.not_found")
    assert_error(await api.get(path, headers=bearer(stranger)), 404, "record.not_found")
    other_expert, _ = await bound_expert(api, world.admin_token, world.org.id, name="李工")
    assert_error(await api.put(path, json=body, headers=bearer(other_expert)), 404, "record.not_found")
    assert_error(await api.get(path, headers=bearer(other_expert)), 404, "record.not_found")
    # A large body from someone who may not write is refused before it is received (were it read
    # first, this junk would be answered as a malformed body).
    junk = b"x" * (4 * 1024 * 1024)
    for token, status in ((stranger, 404), (world.contact_token, 403)):
        answer = await api.put(path, content=junk, headers={**bearer(token), "Content-Type": "application/json"})
        assert answer.status_code == status, answer.text[:200]
    assert (await api.put(path, json=body, headers=bearer(world.expert_token))).status_code == 200
    detail = (await api.get(f"/api/v1/service-orders/{world.order_id}", headers=bearer(world.contact_token))).json()
    assert detail["report"] is None and detail["report_items_count"] == 5

    await advance(api, world, OrderStatus.DELIVERED)
    locked = await api.put(path, json={"items": []}, headers=bearer(world.expert_token))
    assert_error(locked, 409, "service_order.report_locked")
    report = (await api.get(path, headers=bearer(world.expert_token))).json()
    assert report["total"] == 5 and report["editable"] is False and report["trackable"] is True
    # The order's detail shows the figures once delivered.
    detail = (await api.get(f"/api/v1/service-orders/{world.order_id}", headers=bearer(world.contact_token))).json()
    assert detail["report"] == {k: report[k] for k in ("summary", "by_department", "overall")}

    # Caseworkers of the subtree read it; others are told it does not exist.
    caseworker = await login_staff(api, (await make_staff(world.org)).username)
    admin_path = f"/api/v1/admin/service-orders/{world.order_id}/report"
    assert (await api.get(admin_path, headers=bearer(caseworker))).json()["items"] == report["items"]
    outsider = await login_staff(
        api, (await make_staff(await demo_org("深圳市总工会"), StaffRole.UNION_ADMIN)).username
    )
    assert_error(await api.get(admin_path, headers=bearer(outsider)), 404, "record.not_found")


async def test_the_enterprise_tracks_items_after_delivery(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api)
    path = f"/api/v1/service-orders/{world.order_id}/report"
    sent = sample_items(40)
    items = (await api.put(path, json={"items": sent}, headers=bearer(world.expert_token))).json()["items"]
    first, second = items[0]["id"], items[9]["id"]  # the second has a full score of 5
    item_path = f"{path}/items/{first}"
    change = {"status": "in_progress", "current_score": 8}
    too_early = await api.patch(item_path, json=change, headers=bearer(world.contact_token))
    assert_error(too_early, 409, "service_order.report_not_tracking")

    await advance(api, world, OrderStatus.DELIVERED)
    tracked = await api.patch(item_path, json=change, headers=bearer(world.contact_token))
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["status"] == "in_progress" and tracked.json()["current_score"] == 8
    assert tracked.json()["updated_at"]
    done = await api.patch(
        f"{path}/items/{second}", json={"status": "done", "current_score": 5}, headers=bearer(world.contact_token)
    )
    assert done.json()["status"] == "done"
    assert_error(
        await api.patch(f"{path}/items/{second}", json={"current_score": 5.5}, headers=bearer(world.contact_token)),
        422,
        "report.score_out_of_range",
    )
    assert_error(
        await api.patch(item_path, json={}, headers=bearer(world.contact_token)), 422, "report.nothing_to_change"
    )
    assert_error(
        await api.patch(item_path, json=change, headers=bearer(world.expert_token)), 403, "service_order.not_contact"
    )
    stranger, _ = await login_worker(api)
    assert_error(await api.patch(item_path, json=change, headers=bearer(stranger)), 404, "record.not_found")
    other = await order_with_expert(api)
    await api.put(
        f"/api/v1/service-orders/{other.order_id}/report", json={"items": sent[:1]}, headers=bearer(other.expert_token)
    )
    await advance(api, other, OrderStatus.DELIVERED)
    foreign_item = await api.patch(
        f"/api/v1/service-orders/{world.order_id}/report/items/{first}",
        json=change,
        headers=bearer(other.contact_token),
    )
    assert_error(foreign_item, 404, "record.not_found")
    # An item of another order through this order's path does not exist.
    other_item = await ReportItem.filter(order_id=other.order_id).first()
    assert other_item is not None
    assert_error(
        await api.patch(f"{path}/items/{other_item.id}", json=change, headers=bearer(world.contact_token)),
        404,
        "report_item.not_found",
    )

    report = (await api.get(path, headers=bearer(world.contact_token))).json()
    assert report["items"][0]["current_score"] == 8 and report["items"][9]["current_score"] == 5
    check_figures(report)
    area = report["summary"][items[0]["area"]]
    assert area["average_current"] > area["average_score"] and area["in_progress"] == 1

    await advance(api, world, OrderStatus.CONFIRMED)
    assert (await api.patch(item_path, json={"status": "done"}, headers=bearer(world.contact_token))).status_code == 200
    await advance(api, world, OrderStatus.CLOSED)
    # Rated: the enterprise goes on working the items.
    assert (await api.patch(item_path, json={"status": "open"}, headers=bearer(world.contact_token))).status_code == 200


async def test_a_retried_save_is_answered_once(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api)
    path = f"/api/v1/service-orders/{world.order_id}/report"
    headers = {**bearer(world.expert_token), "Idempotency-Key": "report-save-1"}
    first = await api.put(path, json={"items": sample_items(50)}, headers=headers)
    again = await api.put(path, json={"items": sample_items(50)}, headers=headers)
    assert again.headers.get("idempotent-replayed") == "true"
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in first.json()["items"]]
    ids = await ReportItem.filter(order_id=world.order_id).order_by("position").values_list("id", flat=True)
    assert ids == [i["id"] for i in first.json()["items"]]
    other = await api.put(path, json={"items": sample_items(3)}, headers=headers)
    assert_error(other, 422, "idempotency.key_reused")
