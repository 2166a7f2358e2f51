"""Union enrolment (入会): a worker applies to a union; its caseworkers review the application.

The state machine, explicit in `TRANSITIONS`:

    submitted ──approve──▶ approved (a membership is created)
        │ ├────reject───▶ rejected (reason)
        │ └────return───▶ returned (reason) ──resubmit──▶ resubmitted ──(as submitted)──▶ ...
        └──withdraw (from submitted, returned or resubmitted)──▶ withdrawn

One open application per person, decided by the ID number's blind index: `open_key` holds it
while the application is open and NULL after, under a unique constraint, so two racing
submissions give one 201 and one 409. Every step goes through the case kernel
(`models.kernel.machine`): a history row, an audit entry (for caseworkers) and a notification for
the worker, in the transaction of the change.
"""
