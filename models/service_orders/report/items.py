"""The items of a report: what one must hold, replacing the whole list while the expert works,
and the enterprise's tracking after delivery.

One set of rules for every way in (the API's list, a row of an Excel sheet): `read_item` returns
the item or every problem with it, so that an import can report all bad rows at once."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models.errors import Conflict, Invalid, NotFound
from models.service_orders.report.access import ReportRole, order_as
from models.service_orders.tables import (
    REPORT_AREA_LABELS,
    ItemStatus,
    OrderStatus,
    ReportArea,
    ReportItem,
    ServiceOrder,
)

MAX_ITEMS = 2000
TITLE_MAX = 500
GUIDANCE_MAX = 4000
DEPARTMENT_MAX = 64
MAX_SCORE_CEILING = 100
DEFAULT_MAX_SCORE = 10.0
# The expert may rewrite the report until delivering it; the enterprise tracks it from then on,
# after rating too: the PDCA work on the items goes on long after the service is judged.
EDITABLE = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
TRACKABLE = (OrderStatus.DELIVERED, OrderStatus.CONFIRMED, OrderStatus.CLOSED)
FIELDS = ("area", "title", "score", "max_score", "target_score", "guidance", "department")
_AREA_BY_NAME = {**{a.value: a for a in ReportArea}, **{label: a for a, label in REPORT_AREA_LABELS.items()}}


@dataclass(frozen=True)
class ItemDraft:
    """An item that passed every rule, ready to store."""

    area: ReportArea
    title: str
    score: float
    max_score: float
    target_score: float
    guidance: str
    department: str


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def area_of(value: object) -> ReportArea | None:
    """An area by its code or its Chinese label."""
    return _AREA_BY_NAME.get(value.strip()) if isinstance(value, str) else None


def _number(value: object) -> float | None:
    """A finite number, from JSON or from a spreadsheet cell that holds it as text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _text(value: object) -> str | None:
    """Text as given, numbers written as text (a department named 2 in a sheet); None if neither."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def _text_problem(field: str, text: str | None, limit: int, label: str, required: bool = False) -> Problem | None:
    if text is None:
        return Problem(field, f"{label}须为文字")
    if required and not text:
        return Problem(field, f"请填写{label}")
    if len(text) > limit:
        return Problem(field, f"{label}不能超过 {limit} 个字")
    if "\x00" in text:
        return Problem(field, f"{label}含有不允许的控制字符")
    return None


def read_item(raw: Mapping[str, Any]) -> tuple[ItemDraft | None, list[Problem]]:
    """The item `raw` describes, or every problem with it. `max_score` defaults to 10 and
    `target_score` to the full score."""
    problems: list[Problem] = []
    area = area_of(raw.get("area"))
    if area is None:
        names = "、".join(f"{label}（{a.value}）" for a, label in REPORT_AREA_LABELS.items())
        problems.append(Problem("area", f"区域/领域须为 {names} 之一"))
    title = _text(raw.get("title"))
    guidance = _text(raw.get("guidance"))
    department = _text(raw.get("department"))
    for problem in (
        _text_problem("title", title, TITLE_MAX, "整改事项", required=True),
        _text_problem("guidance", guidance, GUIDANCE_MAX, "整改指导"),
        _text_problem("department", department, DEPARTMENT_MAX, "责任部门"),
    ):
        if problem:
            problems.append(problem)

    max_score: float | None = DEFAULT_MAX_SCORE
    if raw.get("max_score") not in (None, ""):
        max_score = _number(raw["max_score"])
        if max_score is None or not 0 < max_score <= MAX_SCORE_CEILING:
            problems.append(Problem("max_score", f"满分须为大于 0、不超过 {MAX_SCORE_CEILING} 的数"))
            max_score = None
    ceiling = max_score if max_score is not None else MAX_SCORE_CEILING
    score = _number(raw.get("score"))
    if score is None or not 0 <= score <= ceiling:
        problems.append(Problem("score", f"现状得分须为 0 到满分（{ceiling:g}）之间的数"))
    target = ceiling if raw.get("target_score") in (None, "") else _number(raw["target_score"])
    if target is None or not 0 <= target <= ceiling:
        problems.append(Problem("target_score", f"目标得分须为 0 到满分（{ceiling:g}）之间的数"))
    if problems:
        return None, problems
    assert area is not None and title is not None and score is not None and target is not None
    return (
        ItemDraft(
            area=area,
            title=title,
            score=score,
            max_score=ceiling,
            target_score=target,
            guidance=guidance or "",
            department=department or "",
        ),
        [],
    )


def check_items(raw_items: Sequence[Mapping[str, Any]]) -> list[ItemDraft]:
    """Every item, or 422 naming the first bad one by its index (from 0) and field."""
    if len(raw_items) > MAX_ITEMS:
        raise Invalid("report.too_many_items", f"一份报告最多 {MAX_ITEMS} 条整改意见", {"limit": MAX_ITEMS})
    drafts = []
    for index, raw in enumerate(raw_items):
        draft, problems = read_item(raw)
        if draft is None:
            first = problems[0]
            raise Invalid(
                "report.item_invalid",
                f"第 {index + 1} 条整改意见：{first.message}",
                {"index": index, "field": first.field, "problems": [vars(p) for p in problems]},
            )
        drafts.append(draft)
    return drafts


async def store_items(order: ServiceOrder, drafts: Sequence[ItemDraft]) -> ServiceOrder:
    """Replace the report of `order` (already authorised for its expert) with `drafts`, in their
    order, in one transaction, until delivery."""
    async with in_transaction():
        # The lock orders concurrent saves, and a delivery in between: the last one wins whole.
        locked = await ServiceOrder.select_for_update().get(id=order.id)
        if locked.status not in EDITABLE:
            raise Conflict(
                "service_order.report_locked",
                "报告已交付，不能再修改" if locked.status != OrderStatus.CANCELLED else "订单已取消，不能修改报告",
                {"status": locked.status.value},
            )
        await ReportItem.filter(order_id=order.id).delete()
        await ReportItem.bulk_create(
            [ReportItem(order_id=order.id, position=n, **vars(draft)) for n, draft in enumerate(drafts)],
            batch_size=500,
        )
    return locked


async def replace_items(user_id: int, order_id: int, raw_items: Sequence[Mapping[str, Any]]) -> ServiceOrder:
    """`PUT .../report`: the whole list, checked, replacing the previous one."""
    order = await order_as(user_id, order_id, ReportRole.EXPERT)
    return await store_items(order, check_items(raw_items))


async def report_items(order_id: int) -> list[ReportItem]:
    return await ReportItem.filter(order_id=order_id).order_by("position", "id")


async def track_item(
    user_id: int,
    order_id: int,
    item_id: int,
    *,
    status: ItemStatus | None,
    current_score: float | None,
    at: datetime,
) -> ReportItem:
    """The enterprise's contact marks an item's progress and re-scores it, after delivery."""
    order = await order_as(user_id, order_id, ReportRole.CONTACT)
    if status is None and current_score is None:
        raise Invalid("report.nothing_to_change", "请填写整改状态或当前得分")
    async with in_transaction():
        locked = await ServiceOrder.select_for_update().get(id=order.id)
        if locked.status not in TRACKABLE:
            raise Conflict(
                "service_order.report_not_tracking",
                "报告交付后才能跟踪整改进度",
                {"status": locked.status.value},
            )
        item = await ReportItem.select_for_update().get_or_none(id=item_id, order_id=order.id)
        if item is None:
            raise NotFound("report_item.not_found", "整改意见不存在", {"id": item_id})
        if current_score is not None:
            if not (math.isfinite(current_score) and 0 <= current_score <= item.max_score):
                raise Invalid(
                    "report.score_out_of_range",
                    f"当前得分须在 0 到满分（{item.max_score:g}）之间",
                    {"field": "current_score", "max_score": item.max_score},
                )
            item.current_score = current_score
        if status is not None:
            item.status = status
        item.updated_at = at
        await item.save(update_fields=["current_score", "status", "updated_at"])
    return item
