"""The rectification report as the mini-program and the admin API see it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import Field, ValidationError
from sanic.response import HTTPResponse, raw

from models.errors import Invalid
from models.kernel.sheets import XLSX_MEDIA_TYPE
from models.service_orders.report.excel import HEADERS, export_filename
from models.service_orders.report.items import (
    DEFAULT_MAX_SCORE,
    DEPARTMENT_MAX,
    EDITABLE,
    GUIDANCE_MAX,
    MAX_ITEMS,
    MAX_SCORE_CEILING,
    TITLE_MAX,
    TRACKABLE,
    report_items,
)
from models.service_orders.report.summary import summary_of
from models.service_orders.tables import (
    ITEM_STATUS_LABELS,
    REPORT_AREA_LABELS,
    ItemStatus,
    ReportArea,
    ServiceOrder,
)
from server.errors import validation_details
from server.http import LocalTime, Shape

AREAS = "；".join(f"{a.value} {label}" for a, label in REPORT_AREA_LABELS.items())


class ItemIn(Shape):
    area: ReportArea = Field(description=f"区域/领域：{AREAS}")
    title: str = Field(min_length=1, max_length=TITLE_MAX, description="整改事项")
    score: float = Field(ge=0, le=MAX_SCORE_CEILING, description="现状得分（0 到满分）")
    max_score: float = Field(DEFAULT_MAX_SCORE, gt=0, le=MAX_SCORE_CEILING, description="满分，默认 10")
    target_score: float | None = Field(
        None, ge=0, le=MAX_SCORE_CEILING, description="目标得分（不超过满分），默认为满分"
    )
    guidance: str = Field("", max_length=GUIDANCE_MAX, description="整改指导")
    department: str = Field("", max_length=DEPARTMENT_MAX, description="责任部门")


class ReportIn(Shape):
    items: list[ItemIn] = Field(max_length=MAX_ITEMS, description=f"全部整改意见（按顺序，最多 {MAX_ITEMS} 条）")


def item_error(exc: ValidationError) -> Exception:
    """A bad item named by its index (from 0) and field, as the domain names one; other problems
    stay the generic 422."""
    for error in exc.errors(include_url=False, include_input=False):
        loc = error["loc"]
        if len(loc) >= 3 and loc[0] == "items" and isinstance(loc[1], int):
            index, field = loc[1], str(loc[2])
            return Invalid(
                "report.item_invalid",
                f"第 {index + 1} 条整改意见的“{HEADERS.get(field, field)}”不符合要求",
                {"index": index, "field": field, **validation_details(exc)},
            )
    return exc


class TrackIn(Shape):
    status: ItemStatus | None = Field(None, description="open 未开始 / in_progress 整改中 / done 已完成")
    current_score: float | None = Field(None, ge=0, le=MAX_SCORE_CEILING, description="整改后的当前得分（0 到满分）")


class ItemOut(Shape):
    id: int
    position: int = Field(description="在报告中的顺序（从 0 起）")
    area: ReportArea
    area_label: str
    title: str
    score: float = Field(description="专家评定的现状得分")
    max_score: float
    target_score: float
    current_score: float | None = Field(description="企业整改后重新评定的得分；未评定为 null")
    status: ItemStatus
    status_label: str
    guidance: str
    department: str
    updated_at: LocalTime | None = Field(description="企业最近一次跟踪的时间")


class Figures(Shape):
    items: int
    average_score: float | None = Field(description="平均现状得分（交付时，保留两位小数）")
    average_current: float | None = Field(description="平均当前得分（未重新评定的按现状得分计）")
    average_target: float | None
    gap_to_target: float | None = Field(description="距目标的平均差距（低于目标的部分）")
    done: int
    in_progress: int
    open: int


class AreaFigures(Figures):
    label: str


class DepartmentFigures(Figures):
    department: str


class AreaSummary(Shape):
    quality_management: AreaFigures
    rd_process: AreaFigures
    production: AreaFigures
    business_management: AreaFigures


class ReportFigures(Shape):
    """The figures without the items: what an order's detail shows once the report is delivered."""

    summary: AreaSummary = Field(description="按区域/领域汇总")
    by_department: list[DepartmentFigures] = Field(description="按责任部门汇总（整改前后）")
    overall: Figures


class ReportOut(Shape):
    order_id: int
    order_status: str
    editable: bool = Field(description="专家仍可修改（接单后、交付前）")
    trackable: bool = Field(description="企业可跟踪整改（交付后，确认、评价后仍可）")
    items: list[ItemOut]
    total: int
    summary: AreaSummary = Field(description="按区域/领域汇总")
    by_department: list[DepartmentFigures] = Field(description="按责任部门汇总（整改前后）")
    overall: Figures


def item_out(item: Any) -> ItemOut:
    return ItemOut(
        id=item.id,
        position=item.position,
        area=item.area,
        area_label=REPORT_AREA_LABELS[item.area],
        title=item.title,
        score=item.score,
        max_score=item.max_score,
        target_score=item.target_score,
        current_score=item.current_score,
        status=item.status,
        status_label=ITEM_STATUS_LABELS[item.status],
        guidance=item.guidance,
        department=item.department,
        updated_at=item.updated_at,
    )


async def report_out(order: ServiceOrder) -> ReportOut:
    items = await report_items(order.id)
    return ReportOut(
        order_id=order.id,
        order_status=order.status.value,
        editable=order.status in EDITABLE,
        trackable=order.status in TRACKABLE,
        items=[item_out(item) for item in items],
        total=len(items),
        **summary_of(items),
    )


def xlsx_file(content: bytes, order: ServiceOrder) -> HTTPResponse:
    return raw(
        content,
        content_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(export_filename(order))}"},
    )
