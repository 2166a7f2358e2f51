"""The report's figures: per area (the contract's `summary`), per department, and overall.

Before and after, as the PDCA cycle reads them: `average_score` is the expert's assessment at
delivery, `average_current` the score now (an item the enterprise has not re-scored counts with
its assessed score), `gap_to_target` how far, on average, items still are below their target.
Averages are rounded to two decimals; a group without items has none (null)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from models.service_orders.tables import REPORT_AREA_LABELS, ItemStatus, ReportArea, ReportItem

NO_DEPARTMENT = "未指定部门"


@dataclass(frozen=True)
class Scored:
    """What the figures need of one item."""

    area: str
    department: str
    score: float
    target_score: float
    current_score: float | None
    status: str

    @property
    def now(self) -> float:
        return self.score if self.current_score is None else self.current_score


def _average(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def figures(items: Sequence[Scored]) -> dict[str, Any]:
    statuses = [item.status for item in items]
    return {
        "items": len(items),
        "average_score": _average([item.score for item in items]),
        "average_current": _average([item.now for item in items]),
        "average_target": _average([item.target_score for item in items]),
        "gap_to_target": _average([max(0.0, item.target_score - item.now) for item in items]),
        "done": statuses.count(ItemStatus.DONE),
        "in_progress": statuses.count(ItemStatus.IN_PROGRESS),
        "open": statuses.count(ItemStatus.OPEN),
    }


def summarise(items: Iterable[Scored]) -> dict[str, Any]:
    """`summary` (every area, in the catalogue's order), `by_department` (in the order the
    departments first appear in the report) and `overall`."""
    items = list(items)
    by_area: dict[str, list[Scored]] = {area.value: [] for area in ReportArea}
    by_department: dict[str, list[Scored]] = {}
    for item in items:
        by_area[item.area].append(item)
        by_department.setdefault(item.department or NO_DEPARTMENT, []).append(item)
    return {
        "summary": {
            area: {**figures(grouped), "label": REPORT_AREA_LABELS[ReportArea(area)]}
            for area, grouped in by_area.items()
        },
        "by_department": [{"department": name, **figures(grouped)} for name, grouped in by_department.items()],
        "overall": figures(items),
    }


def summary_of(items: Iterable[ReportItem]) -> dict[str, Any]:
    """The figures of items already read."""
    return summarise(
        Scored(i.area.value, i.department, i.score, i.target_score, i.current_score, i.status.value) for i in items
    )


async def report_summary(order_id: int) -> dict[str, Any]:
    """The figures of an order's report (for the order's detail once delivered, and the report)."""
    rows = (
        await ReportItem.filter(order_id=order_id)
        .order_by("position", "id")
        .values_list("area", "department", "score", "target_score", "current_score", "status")
    )
    return summarise(Scored(str(a), d, s, t, c, str(st)) for a, d, s, t, c, st in rows)
