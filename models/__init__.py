"""Persistence and domain rules, one module per domain.

Tortoise discovers the models through `MODEL_MODULES`; the domain functions beside each model
are the only code that writes to its tables.
"""

MODEL_MODULES = [
    "models.orgs",
    "models.accounts",
    "models.audit",
    "models.notifications.tables",
    "models.profiles.tables",
    "models.membership.tables",
    "models.enrolment.tables",
    "models.appeals.tables",
    "models.stations.tables",
    "models.idempotency",
    "models.kernel.history",
    "models.kernel.assignment",
    "models.kernel.ratings",
    "models.kernel.calendar",
    "models.kernel.timers",
    "models.kernel.jobs",
    "models.warm_requests.tables",
    "models.enterprises.tables",
    "models.experts.tables",
    "models.service_orders.tables",
    "models.engagements.tables",
    "models.unions.tables",
    "models.desk.saved_filters",
]
