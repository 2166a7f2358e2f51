from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts import StaffRole, SubjectKind, default_user_roles
from models.orgs import OrgType
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("actor_kind", fields.CharField(max_length=8)),
                ("actor_id", fields.BigIntField(null=True)),
                ("actor_name", fields.CharField(default="", max_length=64)),
                ("action", fields.CharField(db_index=True, max_length=64)),
                ("object_type", fields.CharField(default="", max_length=32)),
                ("object_id", fields.CharField(default="", max_length=64)),
                ("org_id", fields.BigIntField(null=True, db_index=True)),
                ("ip", fields.CharField(default="", max_length=64)),
                ("request_id", fields.CharField(default="", max_length=64)),
                ("before", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("after", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={"table": "audit_entries", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Org",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=100)),
                (
                    "org_type",
                    fields.CharEnumField(
                        description="PROVINCE: province\nCITY: city\nDISTRICT: district\nTOWN: town\nENTERPRISE: enterprise\nPARK: park\nPLATFORM: platform\nINDUSTRY: industry",
                        enum_type=OrgType,
                        max_length=16,
                    ),
                ),
                ("region_code", fields.CharField(db_index=True, max_length=12)),
                (
                    "parent",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="parent_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="children",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("depth", fields.SmallIntField(default=0)),
                ("accepts_members", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "orgs", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OrgClosure",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "ancestor",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="ancestor_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "descendant",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="descendant_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("distance", fields.SmallIntField()),
            ],
            options={
                "table": "org_closure",
                "app": "models",
                "unique_together": (("ancestor", "descendant"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffAccount",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("username", fields.CharField(unique=True, max_length=64)),
                ("display_name", fields.CharField(max_length=64)),
                ("password_hash", fields.CharField(max_length=255)),
                (
                    "role",
                    fields.CharEnumField(
                        description="CASEWORKER: caseworker\nUNION_ADMIN: union_admin\nSUPERADMIN: superadmin",
                        enum_type=StaffRole,
                        max_length=16,
                    ),
                ),
                (
                    "org",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="org_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="staff",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("is_active", fields.BooleanField(default=True)),
                ("must_change_password", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("last_login_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "staff_accounts",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A caseworker or admin, who sees and acts on the subtree of their org only.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("openid", fields.CharField(unique=True, max_length=64)),
                ("unionid", fields.CharField(null=True, db_index=True, max_length=64)),
                ("roles", fields.JSONField(default=default_user_roles, encoder=JSON_DUMPS, decoder=loads)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("last_login_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "users",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A person who signed in through the mini-program, known by their openid.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuthSession",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                (
                    "subject_kind",
                    fields.CharEnumField(description="USER: user\nSTAFF: staff", enum_type=SubjectKind, max_length=8),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "models.StaffAccount",
                        source_field="staff_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ip", fields.CharField(default="", max_length=64)),
                ("user_agent", fields.CharField(default="", max_length=255)),
            ],
            options={"table": "auth_sessions", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
