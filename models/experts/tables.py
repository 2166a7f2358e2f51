"""Experts on a union's roster, and the invitation by which one binds their WeChat account."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import User
from models.orgs import Org


class Expert(Model):
    """A 劳模工匠 kept by a union admin in their subtree.

    Counts (patents, standards) are columns so that matching reads them without parsing.
    Lists (titles, industries, skills, regions) are JSON arrays of catalogue codes or org ids."""

    id = fields.BigIntField(primary_key=True)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="experts", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=64)
    titles: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    industries: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    skills: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    regions: list[int] = fields.JSONField(default=list)  # type: ignore[assignment]  # org ids served
    years = fields.IntField(default=0)
    patents_us_invention = fields.IntField(default=0)
    patents_cn_invention = fields.IntField(default=0)
    patents_utility_model = fields.IntField(default=0)
    standards_national = fields.IntField(default=0)
    standards_group = fields.IntField(default=0)
    max_active_orders = fields.IntField(default=2)
    bio = fields.CharField(max_length=2000, default="")
    # The enterprise that employs the expert, if any: ordering from it is a conflict of interest.
    employer_enterprise_id = fields.BigIntField(null=True)
    active = fields.BooleanField(default=True, db_index=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="expert", null=True, unique=True, on_delete=fields.SET_NULL
    )
    invite_code_hash = fields.CharField(max_length=64, null=True, unique=True)
    invite_expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    org_id: int
    user_id: int | None

    class Meta:
        table = "experts"
        indexes = (("org_id", "active"),)
