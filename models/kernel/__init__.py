"""The case kernel: what every kind of case shares, whatever its domain.

A case (an enrolment, a membership change, a broadcast, a service order, a warm-service request
...) moves through states, is assigned to people, runs against deadlines, notifies someone at
each step and ends with a rating. The kernel holds that machinery once, one module per concern:
`machine` (the state table and the one function that moves a case), `history` (what happened,
when, by whom, why), `assignment` (offers, claims, round-robin), `ratings`, `calendar`
(mainland-China working days and hours) and `timers` (SLA deadlines), `jobs` (the background
runner) and `permissions`.

The kernel imports no domain. It may use only the foundation (`models.errors`, `models.audit`,
`models.accounts`, `models.orgs`, `models.scope`, `server.clock`,
`server.settings`); a domain plugs in through the kernel's small registries (for example
`timers.register_breach_handler`, `assignment.register_offer_timeout`), never the other way round.
"""
