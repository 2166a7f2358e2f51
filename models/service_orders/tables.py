"""Service orders, the expert's visits and the rectification report's items."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.accounts import User
from models.enterprises.tables import Enterprise
from models.experts.tables import Expert
from models.orgs import Org
from models.scoping import Scoping

CASE_TYPE = "service_order"


class OrderStatus(StrEnum):
    SUBMITTED = "submitted"
    MATCHING = "matching"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


ORDER_STATUS_LABELS = {
    OrderStatus.SUBMITTED: "已提交",
    OrderStatus.MATCHING: "匹配中",
    OrderStatus.OFFERED: "待专家接单",
    OrderStatus.ACCEPTED: "专家已接单",
    OrderStatus.IN_PROGRESS: "服务中",
    OrderStatus.DELIVERED: "已交付报告",
    OrderStatus.CONFIRMED: "企业已确认",
    OrderStatus.CLOSED: "已评价",
    OrderStatus.CANCELLED: "已取消",
}


class ServiceOrder(Model):
    """An order placed by an enterprise. `org_id` is the union of the enterprise, whose caseworkers match it."""

    SCOPING = Scoping(org="org_id", enterprise="enterprise_id", case_type=CASE_TYPE)

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="orders", on_delete=fields.RESTRICT
    )
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="service_orders", on_delete=fields.RESTRICT
    )
    created_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="service_orders", on_delete=fields.RESTRICT
    )
    category = fields.CharField(max_length=32)  # catalogue code (order_categories)
    title = fields.CharField(max_length=100)
    description = fields.CharField(max_length=4000, default="")
    deadline = fields.DateField(null=True)  # the date the enterprise needs it by (its audit date)
    needs: dict[str, list[str]] = fields.JSONField(default=dict)  # type: ignore[assignment]
    status = fields.CharEnumField(OrderStatus, max_length=16, default=OrderStatus.SUBMITTED, db_index=True)
    # The expert who accepted it; offers in flight live in the kernel's assignments.
    expert: fields.ForeignKeyNullableRelation[Expert] = fields.ForeignKeyField(
        "models.Expert", related_name="orders", null=True, on_delete=fields.RESTRICT
    )
    outcome = fields.CharField(max_length=200, default="")
    outcome_note = fields.CharField(max_length=2000, default="")
    cancel_reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(db_index=True)
    delivered_at = fields.DatetimeField(null=True)
    confirmed_at = fields.DatetimeField(null=True)

    enterprise_id: int
    org_id: int
    created_by_id: int
    expert_id: int | None

    class Meta:
        table = "service_orders"
        indexes = (("org_id", "status"), ("expert_id", "status"))


class Visit(Model):
    """One visit of the expert to the enterprise: when, the places seen, what was found."""

    SCOPING = Scoping(org="org_id")

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[ServiceOrder] = fields.ForeignKeyField(
        "models.ServiceOrder", related_name="visits", on_delete=fields.CASCADE
    )
    org_id = fields.BigIntField()
    expert_id = fields.BigIntField()
    visited_at = fields.DatetimeField()
    places: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]  # lab, workshop, warehouse ...
    summary = fields.CharField(max_length=4000, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    order_id: int

    class Meta:
        table = "service_order_visits"


class ReportArea(StrEnum):
    QUALITY_MANAGEMENT = "quality_management"
    RD_PROCESS = "rd_process"
    PRODUCTION = "production"
    BUSINESS_MANAGEMENT = "business_management"


REPORT_AREA_LABELS = {
    ReportArea.QUALITY_MANAGEMENT: "质量管理",
    ReportArea.RD_PROCESS: "研发工艺",
    ReportArea.PRODUCTION: "生产制造",
    ReportArea.BUSINESS_MANAGEMENT: "经营管理",
}


class ItemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


ITEM_STATUS_LABELS = {ItemStatus.OPEN: "未开始", ItemStatus.IN_PROGRESS: "整改中", ItemStatus.DONE: "已完成"}


class ReportItem(Model):
    """One rectification item (整改意见): the score today, the target, how to raise it, who owns it.

    `score` is the assessment of the expert at delivery, `current_score` the re-score by the enterprise
    as it works the item."""

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[ServiceOrder] = fields.ForeignKeyField(
        "models.ServiceOrder", related_name="report_items", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    area = fields.CharEnumField(ReportArea, max_length=24)
    title = fields.CharField(max_length=500)
    score = fields.FloatField()
    max_score = fields.FloatField(default=10)
    target_score = fields.FloatField()
    current_score = fields.FloatField(null=True)
    status = fields.CharEnumField(ItemStatus, max_length=16, default=ItemStatus.OPEN)
    guidance = fields.CharField(max_length=4000, default="")
    department = fields.CharField(max_length=64, default="")
    updated_at = fields.DatetimeField(null=True)

    order_id: int

    class Meta:
        table = "service_order_report_items"
        indexes = (("order_id", "position"),)
