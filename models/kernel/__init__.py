"""The case kernel: what every case type shares.

A case is a row that moves through states, is assigned to people, runs against deadlines,
notifies someone at each step and ends with a rating. Each domain (enrolment, membership
changes, broadcasts, service orders, warm services) declares its state table and its rules; the
kernel does the rest, one way for all: `machine` (the table and the one function that moves a
case), `history` (what happened, by whom, why), `assignment`, `ratings`, `permissions`,
`calendar` and `timers`, and `jobs` (the background runner).

The kernel imports no domain: only the foundation (errors, audit, accounts, the union tree, the
notification outbox, the clock). Domains plug in through the hooks it defines.
"""
