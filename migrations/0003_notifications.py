from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications.tables import BroadcastStatus
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0002_enrolment_membership_notifications")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Broadcast",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("org_id", fields.BigIntField(db_index=True)),
                ("title", fields.CharField(max_length=40)),
                ("body", fields.TextField(unique=False)),
                ("gig_only", fields.BooleanField(default=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=BroadcastStatus.QUEUED,
                        description="QUEUED: queued\nEXPANDING: expanding\nSENT: sent",
                        enum_type=BroadcastStatus,
                        max_length=16,
                    ),
                ),
                ("cursor", fields.BigIntField(default=0)),
                ("recipients", fields.IntField(default=0)),
                ("created_by_id", fields.BigIntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expanded_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "broadcasts",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A notice to every (gig-worker) member of a subtree, fanned out by the dispatcher in",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DispatcherLease",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=32)),
                ("holder", fields.CharField(max_length=64)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "dispatcher_leases",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Leadership for the embedded mode: SQLite has no row locks, so one dispatcher at a time",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OfficialAccountFollower",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("oa_openid", fields.CharField(unique=True, max_length=64)),
                ("unionid", fields.CharField(null=True, db_index=True, max_length=64)),
                ("following", fields.BooleanField(default=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "official_account_followers",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A follower of the union's official account, linked to mini-program users by unionid.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SubscriptionBalance",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="subscription_balances",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("template_id", fields.CharField(max_length=128)),
                ("balance", fields.IntField(default=0)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "subscription_balances",
                "app": "models",
                "unique_together": (("user_id", "template_id"),),
                "pk_attr": "id",
                "table_description": 'How many subscribe messages of one template a worker has allowed (one per "accept").',
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="NotificationDelivery",
            name="consent_spent",
            field=fields.BooleanField(default=False),
        ),
    ]
