"""The case kernel: what every kind of case shares, whatever its domain.

A case (an enrolment, a membership change, a service order, a warm-service request ...) moves
through states, is assigned to people, runs against deadlines and ends with a rating. The kernel
holds that machinery once, one module per concern: `calendar` (mainland-China working days and
working hours) and `timers` (SLA deadlines) here, with transitions, history, assignment, ratings,
jobs and permissions beside them.

The kernel imports no domain. It may use only the foundation (`models.errors`, `models.audit`,
`models.accounts`, `models.orgs`, `models.notifications`, `models.scope`, `server.clock`,
`server.settings`); a domain plugs in through the kernel's small registries (for example
`timers.register_breach_handler`), never the other way round.
"""
