"""Enrolment applications: their table and states."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.accounts import User
from models.orgs import Org
from models.scoping import Scoping


class EnrolmentStatus(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


STATUS_LABELS = {
    EnrolmentStatus.SUBMITTED: "待审核",
    EnrolmentStatus.RETURNED: "退回补充材料",
    EnrolmentStatus.RESUBMITTED: "已重新提交",
    EnrolmentStatus.APPROVED: "已通过",
    EnrolmentStatus.REJECTED: "未通过",
    EnrolmentStatus.WITHDRAWN: "已撤回",
}


REVIEWABLE = frozenset({EnrolmentStatus.SUBMITTED, EnrolmentStatus.RESUBMITTED})


OPEN = REVIEWABLE | {EnrolmentStatus.RETURNED}


class Enrolment(Model):
    SCOPING = Scoping(owner="user_id")
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="enrolments", on_delete=fields.RESTRICT
    )
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="enrolments", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(EnrolmentStatus, max_length=16, default=EnrolmentStatus.SUBMITTED, db_index=True)
    open_key = fields.CharField(max_length=64, null=True, unique=True)
    person_key = fields.CharField(max_length=64, db_index=True)
    real_name = fields.CharField(max_length=32)
    phone = fields.CharField(max_length=11)
    id_key_id = fields.CharField(max_length=16)
    id_ciphertext = fields.CharField(max_length=128)
    id_masked = fields.CharField(max_length=18)
    id_tail_key = fields.CharField(max_length=64, default="", db_index=True)  # searching by an ID tail
    occupation = fields.CharField(max_length=32)
    occupation_other = fields.CharField(max_length=32, default="")
    platform = fields.CharField(max_length=32, default="none")
    platform_other = fields.CharField(max_length=32, default="")
    is_gig_worker = fields.BooleanField(default=False)
    city = fields.CharField(max_length=32, default="")
    district = fields.CharField(max_length=32, default="")
    note = fields.CharField(max_length=500, default="")
    reason = fields.CharField(max_length=200, default="")
    membership_id = fields.BigIntField(null=True)
    submitted_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    decided_at = fields.DatetimeField(null=True)
    decided_by_id = fields.BigIntField(null=True)

    user_id: int
    org_id: int

    class Meta:
        table = "enrolments"
        indexes = (("org_id", "status"), ("user_id", "status"))
