"""The kinds of help a worker can ask for, each with the fields its caseworker needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from models.errors import Invalid
from models.kernel.calendar import CalendarKind


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str  # text, number, integer, date, choice
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int = 100


@dataclass(frozen=True)
class RequestType:
    code: str
    label: str
    fields: tuple[FieldSpec, ...]
    calendar: CalendarKind  # the default calendar of its timers; a union's policy may change it
    first_response_minutes: int
    resolution_minutes: int


# Targets are in working minutes on the workdays calendar (09:00-12:00, 13:30-18:00: 450 a day),
# in plain minutes on the 24x7 one.
WORKDAY = 450

DISPUTE_KINDS = (
    ("unpaid_wages", "拖欠工资/劳务报酬"),
    ("injury", "工伤/意外伤害"),
    ("dismissal", "解除劳动关系"),
    ("penalty", "平台罚款/封号"),
    ("other", "其他"),
)
COUNSELLING_TOPICS = (("stress", "工作压力"), ("family", "家庭关系"), ("emotion", "情绪困扰"), ("other", "其他"))

REQUEST_TYPES: dict[str, RequestType] = {
    t.code: t
    for t in (
        RequestType(
            "legal_aid",
            "法律援助",
            (
                FieldSpec("dispute_kind", "纠纷类型", "choice", True, DISPUTE_KINDS),
                FieldSpec("employer", "用工单位或平台", "text", True),
                FieldSpec("amount_owed", "涉及金额（元）", "number"),
                FieldSpec("since", "起始日期", "date"),
            ),
            CalendarKind.WORKDAYS,
            4 * 60,
            10 * WORKDAY,
        ),
        RequestType(
            "hardship",
            "困难帮扶",
            (
                FieldSpec("household_size", "家庭人口", "integer", True),
                FieldSpec("monthly_income", "家庭月收入（元）", "number", True),
                FieldSpec("cause", "致困原因", "text", True, max_length=200),
            ),
            CalendarKind.WORKDAYS,
            WORKDAY,
            15 * WORKDAY,
        ),
        RequestType(
            "medical",
            "医疗互助",
            (FieldSpec("hospital", "就诊医院", "text", True), FieldSpec("cost", "医疗费用（元）", "number", True)),
            CalendarKind.WORKDAYS,
            4 * 60,
            10 * WORKDAY,
        ),
        RequestType(
            "counselling",
            "心理疏导",
            (
                FieldSpec("topic", "倾诉主题", "choice", True, COUNSELLING_TOPICS),
                FieldSpec("preferred_time", "方便联系的时间", "text"),
            ),
            CalendarKind.ALWAYS,
            2 * 60,
            3 * 24 * 60,
        ),
        RequestType("other", "其他求助", (), CalendarKind.WORKDAYS, WORKDAY, 10 * WORKDAY),
    )
}


def request_type(code: str) -> RequestType:
    found = REQUEST_TYPES.get(code)
    if found is None:
        raise Invalid("warm_request.type", "求助类型不存在，请从目录中选择", {"field": "type"})
    return found


def _bad(spec: FieldSpec, why: str) -> Invalid:
    return Invalid("warm_request.field", f"“{spec.label}”{why}", {"field": f"fields.{spec.name}"})


def check_fields(kind: RequestType, given: dict[str, Any]) -> dict[str, Any]:
    """The type's fields, checked and normalised; unknown names are refused."""
    unknown = sorted(set(given) - {spec.name for spec in kind.fields})
    if unknown:
        raise Invalid("warm_request.unknown_field", "包含该求助类型没有的信息项", {"fields": unknown[:10]})
    clean: dict[str, Any] = {}
    for spec in kind.fields:
        value = given.get(spec.name)
        if value is None or value == "":
            if spec.required:
                raise _bad(spec, "为必填项")
            continue
        clean[spec.name] = _check_value(spec, value)
    return clean


def _check_value(spec: FieldSpec, value: Any) -> Any:
    if spec.type == "choice":
        if value not in {code for code, _ in spec.choices}:
            raise _bad(spec, "不在可选范围内")
        return value
    if spec.type in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(spec, "须为数字")
        if not 0 <= value <= 100_000_000 or (spec.type == "integer" and not float(value).is_integer()):
            raise _bad(spec, "超出合理范围")
        return int(value) if spec.type == "integer" else value
    if not isinstance(value, str):
        raise _bad(spec, "须为文字")
    if spec.type == "date":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _bad(spec, "须为日期（如 2026-05-01）") from None
        if not date(1950, 1, 1) <= day <= date(2100, 1, 1):
            raise _bad(spec, "超出合理范围")
        return day.isoformat()
    text = value.strip()
    if len(text) > spec.max_length:
        raise _bad(spec, f"不能超过 {spec.max_length} 个字")
    return text


def labelled(kind: RequestType, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields as a caseworker reads them: label and value, choices by their label."""
    shown = []
    for spec in kind.fields:
        if spec.name in values:
            value = values[spec.name]
            if spec.type == "choice":
                value = dict(spec.choices).get(value, value)
            shown.append({"name": spec.name, "label": spec.label, "value": value})
    return shown
