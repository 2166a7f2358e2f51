from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enrolment.tables import EnrolmentStatus
from models.membership.tables import ChangeKind, ChangeStatus, MembershipStatus
from models.notifications.tables import Channel, DeliveryStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Enrolment",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="enrolments",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "org",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="org_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="enrolments",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=EnrolmentStatus.SUBMITTED,
                        db_index=True,
                        description="SUBMITTED: submitted\nRETURNED: returned\nRESUBMITTED: resubmitted\nAPPROVED: approved\nREJECTED: rejected\nWITHDRAWN: withdrawn",
                        enum_type=EnrolmentStatus,
                        max_length=16,
                    ),
                ),
                ("open_key", fields.CharField(null=True, unique=True, max_length=64)),
                ("person_key", fields.CharField(db_index=True, max_length=64)),
                ("real_name", fields.CharField(max_length=32)),
                ("phone", fields.CharField(max_length=11)),
                ("id_key_id", fields.CharField(max_length=16)),
                ("id_ciphertext", fields.CharField(max_length=128)),
                ("id_masked", fields.CharField(max_length=18)),
                ("occupation", fields.CharField(max_length=32)),
                ("occupation_other", fields.CharField(default="", max_length=32)),
                ("platform", fields.CharField(default="none", max_length=32)),
                ("platform_other", fields.CharField(default="", max_length=32)),
                ("is_gig_worker", fields.BooleanField(default=False)),
                ("city", fields.CharField(default="", max_length=32)),
                ("district", fields.CharField(default="", max_length=32)),
                ("note", fields.CharField(default="", max_length=500)),
                ("reason", fields.CharField(default="", max_length=200)),
                ("membership_id", fields.BigIntField(null=True)),
                ("submitted_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("decided_by_id", fields.BigIntField(null=True)),
            ],
            options={
                "table": "enrolments",
                "app": "models",
                "indexes": [Index(fields=["org_id", "status"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="EnrolmentEvent",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "enrolment",
                    fields.ForeignKeyField(
                        "models.Enrolment",
                        source_field="enrolment_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("action", fields.CharField(max_length=16)),
                ("from_status", fields.CharField(default="", max_length=16)),
                ("to_status", fields.CharField(max_length=16)),
                ("actor_kind", fields.CharField(max_length=8)),
                ("actor_name", fields.CharField(max_length=64)),
                ("reason", fields.CharField(default="", max_length=200)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "enrolment_events",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The history of an application: every transition, by whom, why.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="IdempotencyRecord",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("principal", fields.CharField(max_length=64)),
                ("key", fields.CharField(max_length=128)),
                ("method", fields.CharField(max_length=8)),
                ("path", fields.CharField(max_length=255)),
                ("body_hash", fields.CharField(max_length=64)),
                ("status", fields.IntField(null=True)),
                ("response", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "idempotency_records",
                "app": "models",
                "unique_together": (("principal", "key"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MemberNumberSequence",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("prefix", fields.CharField(unique=True, max_length=16)),
                ("last_value", fields.BigIntField(default=0)),
            ],
            options={"table": "member_number_sequences", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Membership",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "org",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="org_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("member_no", fields.CharField(unique=True, max_length=24)),
                (
                    "status",
                    fields.CharEnumField(
                        default=MembershipStatus.ACTIVE,
                        description="ACTIVE: active\nTRANSFERRED: transferred\nWITHDRAWN: withdrawn",
                        enum_type=MembershipStatus,
                        max_length=16,
                    ),
                ),
                ("person_key", fields.CharField(db_index=True, max_length=64)),
                ("active_key", fields.CharField(null=True, unique=True, max_length=64)),
                ("real_name", fields.CharField(max_length=32)),
                ("id_masked", fields.CharField(max_length=18)),
                ("phone", fields.CharField(max_length=11)),
                ("is_gig_worker", fields.BooleanField()),
                ("occupation", fields.CharField(max_length=32)),
                ("platform", fields.CharField(max_length=32)),
                ("enrolment_id", fields.BigIntField(null=True)),
                ("previous_id", fields.BigIntField(null=True)),
                ("joined_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "memberships", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MembershipChange",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="TRANSFER: transfer\nWITHDRAWAL: withdrawal", enum_type=ChangeKind, max_length=16
                    ),
                ),
                (
                    "membership",
                    fields.ForeignKeyField(
                        "models.Membership",
                        source_field="membership_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="changes",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("user_id", fields.BigIntField(db_index=True)),
                ("target_org_id", fields.BigIntField(null=True)),
                ("review_org_id", fields.BigIntField(db_index=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=ChangeStatus.SUBMITTED,
                        description="SUBMITTED: submitted\nAPPROVED: approved\nREJECTED: rejected\nCANCELLED: cancelled",
                        enum_type=ChangeStatus,
                        max_length=16,
                    ),
                ),
                ("open_key", fields.BigIntField(null=True, unique=True)),
                ("reason", fields.CharField(default="", max_length=200)),
                ("decision_reason", fields.CharField(default="", max_length=200)),
                ("decided_by_id", fields.BigIntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "membership_changes",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A transfer (reviewed by the receiving union) or a withdrawal (by the current union).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Notification",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="notifications",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("event", fields.CharField(db_index=True, max_length=48)),
                ("object_type", fields.CharField(max_length=32)),
                ("object_id", fields.CharField(max_length=64)),
                ("org_id", fields.BigIntField(null=True, db_index=True)),
                ("title", fields.CharField(max_length=64)),
                ("body", fields.TextField(unique=False)),
                ("values", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("page", fields.CharField(default="", max_length=256)),
                ("broadcast_id", fields.BigIntField(null=True, db_index=True)),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ("read_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "notifications",
                "app": "models",
                "indexes": [Index(fields=["user_id", "read_at"])],
                "pk_attr": "id",
                "table_description": "One thing that happened to a worker: their inbox entry, whatever WeChat does with it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NotificationDelivery",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "notification",
                    fields.ForeignKeyField(
                        "models.Notification",
                        source_field="notification_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "channel",
                    fields.CharEnumField(
                        description="SUBSCRIBE: subscribe\nTEMPLATE: template", enum_type=Channel, max_length=16
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=DeliveryStatus.PENDING,
                        description="PENDING: pending\nSENDING: sending\nDELIVERED: delivered\nSKIPPED: skipped\nFAILED: failed",
                        enum_type=DeliveryStatus,
                        max_length=16,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("due_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("claimed_by", fields.CharField(default="", max_length=64)),
                ("lease_expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("template_id", fields.CharField(default="", max_length=128)),
                ("last_errcode", fields.IntField(null=True)),
                ("last_error", fields.CharField(default="", max_length=255)),
                ("msgid", fields.CharField(default="", db_index=True, max_length=64)),
                ("org_id", fields.BigIntField(null=True, db_index=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "notification_deliveries",
                "app": "models",
                "indexes": [Index(fields=["status", "due_at"])],
                "pk_attr": "id",
                "table_description": "One attempt-tracked send of a notification through one channel.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OrgMemberTally",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("org_id", fields.BigIntField()),
                ("dimension", fields.CharField(max_length=16)),
                ("value", fields.CharField(max_length=32)),
                ("members", fields.BigIntField(default=0)),
                ("gig_members", fields.BigIntField(default=0)),
            ],
            options={
                "table": "org_member_tallies",
                "app": "models",
                "unique_together": (("org_id", "dimension", "value"),),
                "pk_attr": "id",
                "table_description": "Members of an org's whole subtree, in total (`all`) and by occupation and platform.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WorkerProfile",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.OneToOneField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="profile",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("real_name", fields.CharField(max_length=32)),
                ("phone", fields.CharField(max_length=11)),
                ("phone_verified", fields.BooleanField(default=False)),
                ("id_key_id", fields.CharField(max_length=16)),
                ("id_ciphertext", fields.CharField(max_length=128)),
                ("id_blind_index", fields.CharField(db_index=True, max_length=64)),
                ("id_masked", fields.CharField(max_length=18)),
                ("occupation", fields.CharField(max_length=32)),
                ("occupation_other", fields.CharField(default="", max_length=32)),
                ("platform", fields.CharField(default="none", max_length=32)),
                ("platform_other", fields.CharField(default="", max_length=32)),
                ("city", fields.CharField(max_length=32)),
                ("district", fields.CharField(default="", max_length=32)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "worker_profiles", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
