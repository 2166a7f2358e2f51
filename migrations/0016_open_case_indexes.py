"""Partial indexes for the caseworkers' queues, which read open cases among many closed ones.

Both back ends support partial indexes; Tortoise's PartialIndex only knows equality conditions,
hence plain SQL. Without them, the queue of open requests ordered by age walks the creation-time
index past every closed request (66,000 rows for 20 at city scale) and the breached filter scans
every timer ever started."""

from tortoise import migrations
from tortoise.migrations import operations as ops

OPEN_REQUESTS = "status IN ('submitted', 'assigned', 'in_progress', 'waiting_worker')"
LIVE_TIMERS = "status IN ('running', 'paused')"


class Migration(migrations.Migration):
    dependencies = [("models", "0015_union_service")]

    initial = False

    operations = [
        ops.RunSQL(
            f"CREATE INDEX warm_requests_open_by_age ON warm_requests (created_at, id) WHERE {OPEN_REQUESTS}",
            "DROP INDEX warm_requests_open_by_age",
        ),
        ops.RunSQL(
            f"CREATE INDEX sla_timers_live ON sla_timers (case_type, case_id) WHERE {LIVE_TIMERS}",
            "DROP INDEX sla_timers_live",
        ),
    ]
