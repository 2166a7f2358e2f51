"""Persistence and domain rules, one module per domain.

Tortoise discovers the models through `MODEL_MODULES`; the domain functions beside each model
are the only code that writes to its tables.
"""

MODEL_MODULES = [
    "models.orgs",
    "models.accounts",
    "models.audit",
    "models.notifications",
    "models.profiles",
    "models.membership",
    "models.enrolment",
    "models.idempotency",
    "models.kernel.jobs",
]
