"""The report as an Excel sheet: an import that equals the same list sent as JSON, bad rows all
named by their row number with nothing stored, and an export that reads back the same values."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.service_orders.tables import OrderStatus, ReportItem
from tests.factories.common import assert_error, bearer, login_staff
from tests.factories.report import advance, order_with_expert
from tests.factories.unions import demo_org, make_staff
from tests.service_orders.test_report import sample_items, stored_view

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LABELS = {
    "quality_management": "质量管理",
    "rd_process": "研发工艺",
    "production": "生产制造",
    "business_management": "经营管理",
}
CHINESE = ["区域/领域", "整改事项", "现状得分", "满分", "目标得分", "整改指导", "责任部门"]
FIELDS = ["area", "title", "score", "max_score", "target_score", "guidance", "department"]


def sheet(header: list[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    page = workbook.active
    page.append(header)
    for row in rows:
        page.append(row)
    for row in page.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # the title that looks like a formula is text
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rows_of(items: list[dict[str, Any]], *, labels: bool) -> list[list[Any]]:
    """Each item as a row; Chinese area labels or codes, blank cells where a value is left out."""
    rows = []
    for i in items:
        rows.append(
            [
                LABELS[i["area"]] if labels else i["area"],
                i["title"],
                i["score"],
                i.get("max_score"),
                i.get("target_score"),
                i.get("guidance") or None,
                i.get("department") or None,
            ]
        )
    return rows


async def upload(api: httpx.AsyncClient, order_id: int, token: str, data: bytes) -> httpx.Response:
    return await api.post(
        f"/api/v1/service-orders/{order_id}/report/import",
        content=data,
        headers={**bearer(token), "Content-Type": XLSX},
    )


async def test_an_imported_sheet_equals_the_same_list_sent_as_json(api: httpx.AsyncClient) -> None:
    items = sample_items(310)
    by_json = await order_with_expert(api)
    sent = await api.put(
        f"/api/v1/service-orders/{by_json.order_id}/report", json={"items": items}, headers=bearer(by_json.expert_token)
    )
    by_sheet = await order_with_expert(api, OrderStatus.IN_PROGRESS)
    rows = rows_of(items, labels=True)
    rows.insert(100, [None] * 7)  # a blank line between sections is skipped
    imported = await upload(api, by_sheet.order_id, by_sheet.expert_token, sheet(CHINESE, rows))
    assert imported.status_code == 200, imported.text
    assert stored_view(imported.json()["items"]) == stored_view(sent.json()["items"])
    for key in ("summary", "by_department", "overall"):
        assert imported.json()[key] == sent.json()[key]

    # English field names and area codes, in another column order, replace the report again.
    order = [6, 0, 2, 1, 3, 4, 5]
    english = sheet([FIELDS[c] for c in order], [[r[c] for c in order] for r in rows_of(items[:4], labels=False)])
    again = await upload(api, by_sheet.order_id, by_sheet.expert_token, english)
    assert stored_view(again.json()["items"]) == stored_view(sent.json()["items"][:4])


async def test_bad_rows_are_all_reported_by_row_number_and_nothing_is_stored(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api)
    before = (
        await api.put(
            f"/api/v1/service-orders/{world.order_id}/report",
            json={"items": sample_items(3)},
            headers=bearer(world.expert_token),
        )
    ).json()["items"]
    rows = rows_of(sample_items(30), labels=True)
    rows[2][0] = "售后服务"  # row 4: unknown area
    rows[9][2] = 12  # row 11: score above the full score
    rows[9][4] = "十分"  # ... and a target that is not a number
    rows[20][1] = None  # row 22: no title
    rows[25][3] = 5  # row 27: full score 5 below the score 9 ...
    rows[25][2] = 9
    bad = await upload(api, world.order_id, world.expert_token, sheet(CHINESE, rows))
    error = assert_error(bad, 422, "report.import_invalid")
    reported = {r["row"]: sorted(e["field"] for e in r["errors"]) for r in error["details"]["rows"]}
    assert reported == {4: ["area"], 11: ["score", "target_score"], 22: ["title"], 27: ["score", "target_score"]}
    assert error["details"]["rows"][0]["errors"][0]["column"] == "区域/领域"
    stored = await ReportItem.filter(order_id=world.order_id).order_by("position").values_list("id", flat=True)
    assert stored == [i["id"] for i in before]

    missing = await upload(api, world.order_id, world.expert_token, sheet(["区域/领域", "现状得分"], [["质量管理", 5]]))
    error = assert_error(missing, 422, "report.import_invalid")
    assert error["details"]["rows"] == [
        {"row": 1, "errors": [{"field": "title", "column": "整改事项", "message": "缺少“整改事项”列"}]}
    ]
    assert_error(
        await upload(api, world.order_id, world.expert_token, b"not a workbook"), 422, "report.import_unreadable"
    )
    assert_error(await upload(api, world.order_id, world.expert_token, sheet(CHINESE, [])), 422, "report.import_empty")
    too_big = await upload(api, world.order_id, world.expert_token, b"x" * (5 * 1024 * 1024 + 1))
    assert_error(too_big, 413, "report.import_too_large")
    assert_error(
        await upload(api, world.order_id, world.contact_token, sheet(CHINESE, rows_of(sample_items(2), labels=True))),
        403,
        "service_order.not_expert",
    )
    await advance(api, world, OrderStatus.DELIVERED)
    good = sheet(CHINESE, rows_of(sample_items(2), labels=True))
    assert_error(await upload(api, world.order_id, world.expert_token, good), 409, "service_order.report_locked")
    assert await ReportItem.filter(order_id=world.order_id).count() == 3


async def test_the_export_reads_back_the_same_values(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api)
    path = f"/api/v1/service-orders/{world.order_id}/report"
    items = (await api.put(path, json={"items": sample_items(60)}, headers=bearer(world.expert_token))).json()["items"]
    await advance(api, world, OrderStatus.DELIVERED)
    await api.patch(
        f"{path}/items/{items[1]['id']}",
        json={"status": "done", "current_score": 9.5},
        headers=bearer(world.contact_token),
    )
    report = (await api.get(path, headers=bearer(world.contact_token))).json()

    answer = await api.get(f"{path}.xlsx", headers=bearer(world.contact_token))
    assert answer.status_code == 200 and answer.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(answer.content))
    page = workbook["整改意见"]
    assert page.freeze_panes == "A2"
    assert page.column_dimensions["C"].width > page.column_dimensions["D"].width
    assert page["C2"].alignment.wrap_text and page["G2"].alignment.wrap_text and page["A1"].font.bold
    rows = list(page.iter_rows(values_only=True))
    assert list(rows[0]) == ["序号", *CHINESE, "当前得分", "整改状态"]
    status_labels = {"open": "未开始", "in_progress": "整改中", "done": "已完成"}
    expected = [
        [
            n,
            LABELS[i["area"]],
            i["title"],
            i["score"],
            i["max_score"],
            i["target_score"],
            i["guidance"] or None,
            i["department"] or None,
            i["current_score"],
            status_labels[i["status"]],
        ]
        for n, i in enumerate(report["items"], start=1)
    ]
    assert [list(r) for r in rows[1:]] == expected
    assert rows[1][2] == "=来料检验记录不完整"  # kept as text, not run as a formula

    summary = list(workbook["汇总"].iter_rows(values_only=True))
    by_area = {r[0]: r[1:] for r in summary if r and r[0] in LABELS.values()}
    for code, label in LABELS.items():
        f = report["summary"][code]
        assert by_area[label] == (
            f["items"],
            f["average_score"],
            f["average_current"],
            f["average_target"],
            f["gap_to_target"],
            f["done"],
        )
    departments = {d["department"] for d in report["by_department"]}
    assert departments <= {r[0] for r in summary if r}

    # A caseworker of the subtree exports it too (audited); one elsewhere cannot.
    caseworker = await make_staff(world.org)
    staff_token = await login_staff(api, caseworker.username)
    admin = await api.get(f"/api/v1/admin/service-orders/{world.order_id}/report.xlsx", headers=bearer(staff_token))
    assert admin.status_code == 200
    assert [
        list(r) for r in load_workbook(io.BytesIO(admin.content))["整改意见"].iter_rows(min_row=2, values_only=True)
    ] == expected
    assert await AuditEntry.filter(actor_id=caseworker.id, action="export", object_id=str(world.order_id)).exists()
    outsider = await login_staff(
        api, (await make_staff(await demo_org("湛江市总工会"), StaffRole.UNION_ADMIN)).username
    )
    assert_error(
        await api.get(f"/api/v1/admin/service-orders/{world.order_id}/report.xlsx", headers=bearer(outsider)),
        404,
        "record.not_found",
    )

    # The export is itself a sheet the import takes.
    again = await order_with_expert(api)
    reimported = await upload(api, again.order_id, again.expert_token, answer.content)
    keys = ("area", "title", "score", "max_score", "target_score", "guidance", "department")
    assert [{k: i[k] for k in keys} for i in reimported.json()["items"]] == [{k: i[k] for k in keys} for i in items]
