"""Demands and the union's replies to them."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.accounts import User
from models.orgs import Org
from models.scoping import Scoping


class AppealStatus(StrEnum):
    SUBMITTED = "submitted"
    REPLIED = "replied"
    TAKEN_UP = "taken_up"


STATUS_LABELS = {
    AppealStatus.SUBMITTED: "待答复",
    AppealStatus.REPLIED: "已答复",
    AppealStatus.TAKEN_UP: "已纳入协商",
}

CONTENT_MAX = 1000
EMPLOYER_MAX = 64


class Appeal(Model):
    SCOPING = Scoping(owner="user_id")
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="appeals", on_delete=fields.RESTRICT
    )
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="appeals", on_delete=fields.RESTRICT
    )
    topic = fields.CharField(max_length=32)
    content = fields.CharField(max_length=CONTENT_MAX)
    platform = fields.CharField(max_length=32, default="none")
    employer = fields.CharField(max_length=EMPLOYER_MAX, default="")
    anonymous = fields.BooleanField(default=False)
    status = fields.CharEnumField(AppealStatus, max_length=16, default=AppealStatus.SUBMITTED)
    month = fields.CharField(max_length=7)  # YYYY-MM in Asia/Shanghai: grouped on both back ends alike
    submitted_at = fields.DatetimeField()
    replied_at = fields.DatetimeField(null=True)
    taken_up_at = fields.DatetimeField(null=True)

    user_id: int
    org_id: int

    class Meta:
        table = "appeals"
        indexes = (("org_id", "submitted_at"), ("org_id", "topic", "platform", "month"), ("user_id", "id"))


class AppealReply(Model):
    id = fields.BigIntField(primary_key=True)
    appeal: fields.ForeignKeyRelation[Appeal] = fields.ForeignKeyField(
        "models.Appeal", related_name="replies", on_delete=fields.CASCADE
    )
    org_id = fields.BigIntField()  # the demand's union, so replies are scoped as their demand is
    content = fields.CharField(max_length=CONTENT_MAX)
    staff_id = fields.BigIntField(null=True)
    staff_name = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    appeal_id: int

    class Meta:
        table = "appeal_replies"
        indexes = (("appeal_id", "id"),)
