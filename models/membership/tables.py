"""Memberships, transfers and withdrawals, member numbers and the member tallies."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.accounts import User
from models.orgs import Org
from models.scoping import Scoping


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    TRANSFERRED = "transferred"
    WITHDRAWN = "withdrawn"


MEMBERSHIP_STATUS_LABELS = {
    MembershipStatus.ACTIVE: "正常",
    MembershipStatus.TRANSFERRED: "已转出",
    MembershipStatus.WITHDRAWN: "已退会",
}


class Membership(Model):
    SCOPING = Scoping(owner="user_id")
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.RESTRICT
    )
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="memberships", on_delete=fields.RESTRICT
    )
    member_no = fields.CharField(max_length=24, unique=True)
    status = fields.CharEnumField(MembershipStatus, max_length=16, default=MembershipStatus.ACTIVE)
    person_key = fields.CharField(max_length=64, db_index=True)
    active_key = fields.CharField(max_length=64, null=True, unique=True)
    real_name = fields.CharField(max_length=32)
    id_masked = fields.CharField(max_length=18)
    id_tail_key = fields.CharField(max_length=64, default="", db_index=True)  # searching by an ID tail
    phone = fields.CharField(max_length=11)
    is_gig_worker = fields.BooleanField()
    occupation = fields.CharField(max_length=32)
    platform = fields.CharField(max_length=32)
    enrolment_id = fields.BigIntField(null=True)
    previous_id = fields.BigIntField(null=True)
    joined_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    user_id: int
    org_id: int

    class Meta:
        table = "memberships"
        # "Is this user a member" (every submission asks), and the member list newest first.
        indexes = (("user_id", "status"), ("status", "joined_at"))


class ChangeKind(StrEnum):
    TRANSFER = "transfer"
    WITHDRAWAL = "withdrawal"


class ChangeStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class MembershipChange(Model):
    """A transfer (reviewed by the receiving union) or a withdrawal (by the current union)."""

    SCOPING = Scoping(org="review_org_id", owner="user_id")
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(ChangeKind, max_length=16)
    membership: fields.ForeignKeyRelation[Membership] = fields.ForeignKeyField(
        "models.Membership", related_name="changes", on_delete=fields.RESTRICT
    )
    user_id = fields.BigIntField(db_index=True)
    target_org_id = fields.BigIntField(null=True)
    review_org_id = fields.BigIntField(db_index=True)
    status = fields.CharEnumField(ChangeStatus, max_length=16, default=ChangeStatus.SUBMITTED)
    open_key = fields.BigIntField(null=True, unique=True)
    reason = fields.CharField(max_length=200, default="")
    decision_reason = fields.CharField(max_length=200, default="")
    decided_by_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    membership_id: int

    class Meta:
        table = "membership_changes"


class MemberNumberSequence(Model):
    id = fields.BigIntField(primary_key=True)
    prefix = fields.CharField(max_length=16, unique=True)
    last_value = fields.BigIntField(default=0)

    class Meta:
        table = "member_number_sequences"


class OrgMemberTally(Model):
    """Members of an org's whole subtree, in total (`all`) and by occupation and platform."""

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField()
    dimension = fields.CharField(max_length=16)
    value = fields.CharField(max_length=32)
    members = fields.BigIntField(default=0)
    gig_members = fields.BigIntField(default=0)

    class Meta:
        table = "org_member_tallies"
        unique_together = (("org_id", "dimension", "value"),)
