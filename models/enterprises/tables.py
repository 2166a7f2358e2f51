"""Enterprises, their contacts, and the invitations an existing contact hands out."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.accounts import User
from models.orgs import Org
from models.scoping import Scoping


class EnterpriseStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"


ENTERPRISE_STATUS_LABELS = {EnterpriseStatus.PENDING: "待核验", EnterpriseStatus.VERIFIED: "已核验"}


class Enterprise(Model):
    """An enterprise registered by a worker who becomes its first contact.

    One row per 统一社会信用代码. A caseworker of its union verifies it once, before its first
    order is dispatched."""

    SCOPING = Scoping(org="org_id", enterprise="id")

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=100)
    credit_code = fields.CharField(max_length=18, unique=True)
    industry = fields.CharField(max_length=32)  # catalogue code (industries)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="enterprises", on_delete=fields.RESTRICT
    )
    address = fields.CharField(max_length=200, default="")
    contact_name = fields.CharField(max_length=64, default="")
    contact_phone = fields.CharField(max_length=20, default="")
    status = fields.CharEnumField(EnterpriseStatus, max_length=16, default=EnterpriseStatus.PENDING, db_index=True)
    verified_at = fields.DatetimeField(null=True)
    verified_by_id = fields.BigIntField(null=True)  # the staff account that verified it
    created_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="registered_enterprises", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: int
    created_by_id: int

    class Meta:
        table = "enterprises"
        indexes = (("org_id", "status"),)


class EnterpriseContact(Model):
    """A worker who acts for an enterprise: places its orders, tracks its report, rates."""

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="contacts", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="enterprise_contacts", on_delete=fields.CASCADE
    )
    invited_by_id = fields.BigIntField(null=True)  # the contact whose invitation was redeemed
    joined_at = fields.DatetimeField(auto_now_add=True)

    enterprise_id: int
    user_id: int

    class Meta:
        table = "enterprise_contacts"
        unique_together = (("enterprise_id", "user_id"),)


class EnterpriseInvitation(Model):
    """A single-use, expiring code by which an existing contact adds another. Only its hash is kept."""

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="invitations", on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=64, unique=True)
    created_by_id = fields.BigIntField()  # the inviting contact's user id
    expires_at = fields.DatetimeField()
    redeemed_by_id = fields.BigIntField(null=True)
    redeemed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    enterprise_id: int

    class Meta:
        table = "enterprise_invitations"
