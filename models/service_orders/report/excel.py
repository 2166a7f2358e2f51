"""The report as an Excel sheet: imported with the API's columns (Chinese headers or the field
names), exported with the same columns plus the tracking and a summary sheet.

An import is all or nothing: every bad row is reported by its row number in the sheet, and
nothing is stored unless every row is good. Files are parsed in a thread (openpyxl is plain
Python and a large sheet would hold the event loop) in read-only mode, row by row."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook

from models.audit import Actor, record
from models.errors import Invalid, TooLarge
from models.kernel.sheets import SheetWriter, fitted_widths, saved
from models.service_orders.report.access import ReportRole, order_as
from models.service_orders.report.items import FIELDS, MAX_ITEMS, ItemDraft, read_item, report_items, store_items
from models.service_orders.report.summary import summary_of
from models.service_orders.tables import ITEM_STATUS_LABELS, REPORT_AREA_LABELS, ReportItem, ServiceOrder

MAX_IMPORT_BYTES = 5 * 1024 * 1024
HEADERS = {
    "area": "区域/领域",
    "title": "整改事项",
    "score": "现状得分",
    "max_score": "满分",
    "target_score": "目标得分",
    "guidance": "整改指导",
    "department": "责任部门",
}
TRACKING_HEADERS = {"current_score": "当前得分", "status": "整改状态"}
REQUIRED = ("area", "title", "score")
# What a header cell may say for each field; other columns (an export's 序号 or 整改状态) are ignored.
_FIELD_BY_HEADER = {
    **{field: field for field in FIELDS},
    **{label: field for field, label in HEADERS.items()},
    "区域": "area",
    "领域": "area",
}
# A sheet wider than this is not a report; reading stops there rather than at the sheet's claim.
_MAX_COLUMNS = 40
# The title and the guidance wrap at these widths (the guidance is the longer text).
_WRAPPED_WIDTHS = {"title": 48, "guidance": 60}


def _unreadable() -> Invalid:
    return Invalid("report.import_unreadable", "无法读取该文件，请上传 Excel（.xlsx）文件")


def import_too_large() -> TooLarge:
    return TooLarge(
        "report.import_too_large",
        f"Excel 文件不能超过 {MAX_IMPORT_BYTES // 1024 // 1024} MB",
        {"limit": MAX_IMPORT_BYTES},
    )


def _invalid(rows: list[dict[str, Any]]) -> Invalid:
    return Invalid(
        "report.import_invalid",
        f"有 {len(rows)} 行不符合要求，未导入任何内容，请修改后重新上传",
        {"rows": rows},
    )


def _header_fields(cells: Sequence[Any]) -> dict[int, str]:
    """Column index → field, from the header row."""
    columns: dict[int, str] = {}
    for index, cell in enumerate(cells):
        name = cell.strip() if isinstance(cell, str) else ""
        field = _FIELD_BY_HEADER.get(name) or _FIELD_BY_HEADER.get(name.lower())
        if field and field not in columns.values():
            columns[index] = field
    return columns


def read_sheet(data: bytes) -> list[ItemDraft]:
    """The items of the first sheet (row 1 the header), or 422 naming every bad row."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a zip that is not a workbook fails in many ways, all of them the sender's
        raise _unreadable() from exc
    try:
        return _read_rows(workbook.worksheets[0].iter_rows(max_col=_MAX_COLUMNS, values_only=True))
    except Invalid:
        raise
    except Exception as exc:  # broken sheet XML surfaces while iterating
        raise _unreadable() from exc
    finally:
        workbook.close()


def _read_rows(rows: Iterable[Sequence[Any]]) -> list[ItemDraft]:
    rows = iter(rows)
    header = next(rows, None)
    columns = _header_fields(header or ())
    missing = [field for field in REQUIRED if field not in columns.values()]
    if missing:
        errors = [{"field": f, "column": HEADERS[f], "message": f"缺少“{HEADERS[f]}”列"} for f in missing]
        raise _invalid([{"row": 1, "errors": errors}])
    drafts: list[ItemDraft] = []
    bad: list[dict[str, Any]] = []
    for number, cells in enumerate(rows, start=2):
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue  # blank lines between sections are common in hand-made sheets
        if len(drafts) + len(bad) >= MAX_ITEMS:
            raise Invalid("report.too_many_items", f"一份报告最多 {MAX_ITEMS} 条整改意见", {"limit": MAX_ITEMS})
        raw = {field: cells[index] if index < len(cells) else None for index, field in columns.items()}
        draft, problems = read_item(raw)
        if draft is None:
            errors = [{"field": p.field, "column": HEADERS[p.field], "message": p.message} for p in problems]
            bad.append({"row": number, "errors": errors})
        else:
            drafts.append(draft)
    if bad:
        raise _invalid(bad)
    if not drafts:
        raise Invalid("report.import_empty", "表格中没有整改意见")
    return drafts


async def import_report(user_id: int, order_id: int, data: bytes) -> ServiceOrder:
    """`POST .../report/import`: the sheet replaces the report, as a `PUT` of its rows would."""
    order = await order_as(user_id, order_id, ReportRole.EXPERT)
    if len(data) > MAX_IMPORT_BYTES:
        raise import_too_large()
    drafts = await asyncio.to_thread(read_sheet, data)
    return await store_items(order, drafts)


# --- export ---------------------------------------------------------------------------------

FIGURE_HEADERS = ("条数", "平均现状得分", "平均当前得分", "平均目标得分", "距目标差距", "已完成")


def _figures_row(name: str, f: dict[str, Any]) -> list[Any]:
    keys = ("items", "average_score", "average_current", "average_target", "gap_to_target", "done")
    return [name, *(f[key] for key in keys)]


def report_workbook(order: ServiceOrder, items: Sequence[ReportItem]) -> bytes:
    """The items sheet (frozen header, readable widths, long text wrapped) and the summary sheet."""
    workbook = Workbook(write_only=True)
    sheet = SheetWriter(workbook.create_sheet("整改意见"))
    sheet.sheet.freeze_panes = "A2"
    header = ["序号", *HEADERS.values(), *TRACKING_HEADERS.values()]
    rows = [
        [
            n,
            REPORT_AREA_LABELS[item.area],
            item.title,
            item.score,
            item.max_score,
            item.target_score,
            item.guidance,
            item.department,
            item.current_score,
            ITEM_STATUS_LABELS[item.status],
        ]
        for n, item in enumerate(items, start=1)
    ]
    # Fitted to the content like every export, except that the long texts wrap at a readable width.
    widths = fitted_widths(header, rows)
    wrap_at = {header.index(HEADERS[field]): width for field, width in _WRAPPED_WIDTHS.items()}
    for index, width in wrap_at.items():
        widths[index] = min(widths[index], width)
    wrapped = wrap_at.keys()
    sheet.widths(widths)
    sheet.row(header, bold=True)
    for row in rows:
        sheet.row(row, wrapped=wrapped)

    figures = summary_of(items)
    summary = SheetWriter(workbook.create_sheet("汇总"))
    summary.widths([16, *[13] * len(FIGURE_HEADERS)])
    summary.row([f"服务订单 #{order.id} {order.title}"], bold=True)
    summary.row([])
    summary.row(("区域/领域", *FIGURE_HEADERS), bold=True)
    for f in figures["summary"].values():
        summary.row(_figures_row(f["label"], f))
    summary.row(_figures_row("合计", figures["overall"]), bold=True)
    summary.row([])
    summary.row(("责任部门", *FIGURE_HEADERS), bold=True)
    for d in figures["by_department"]:
        summary.row(_figures_row(d["department"], d))
    return saved(workbook)


async def export_report(order: ServiceOrder, actor: Actor) -> bytes:
    """The order's report as .xlsx; a caseworker's export is audited like every export."""
    items = await report_items(order.id)
    if actor.kind == "staff":
        await record(
            actor,
            "export",
            object_type="service_order_report",
            object_id=order.id,
            org_id=order.org_id,
            after={"rows": len(items)},
        )
    return await asyncio.to_thread(report_workbook, order, items)


def export_filename(order: ServiceOrder) -> str:
    return f"整改意见-订单{order.id}.xlsx"
