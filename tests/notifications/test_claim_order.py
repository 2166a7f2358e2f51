"""Which due deliveries a dispatcher claims first: a message whose send failed goes again as soon
as its backoff has passed, ahead of a backlog of first tries that was due before it, rather than
behind the whole of a broadcast (server/dispatcher.py, `due_in_claim_order`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models.notifications.tables import NotificationDelivery
from server.clock import SHANGHAI
from server.dispatcher import due_in_claim_order
from tests.conftest import Stack
from tests.kernel.factories import queued_messages

# Far enough ahead that no dispatcher running for other tests finds these deliveries due.
BACKLOG_DUE = datetime(2099, 1, 5, 9, 0, tzinfo=SHANGHAI)


async def _claim_order(stack: Stack, at: datetime, mine: list[int]) -> list[int]:
    async with in_transaction():
        order = await due_in_claim_order(at, 10_000, not stack.settings.uses_sqlite)
    return [delivery_id for delivery_id in order if delivery_id in mine]


async def test_a_due_retry_is_claimed_before_a_backlog_of_first_tries(stack: Stack) -> None:
    mine = sorted((await queued_messages(6, due_at=BACKLOG_DUE)).values())
    retried, backlog = mine[-1], mine[:-1]
    await NotificationDelivery.filter(id=retried).update(attempts=2, due_at=BACKLOG_DUE + timedelta(minutes=5))
    try:
        # Before its backoff has passed the retry is not due; the backlog is, oldest first.
        assert await _claim_order(stack, BACKLOG_DUE + timedelta(minutes=1), mine) == backlog
        # Once it is due it goes first, though every first try was due before it.
        assert await _claim_order(stack, BACKLOG_DUE + timedelta(minutes=10), mine) == [retried, *backlog]
        # Retries among themselves, and first tries among themselves, go oldest due first.
        await NotificationDelivery.filter(id=backlog[0]).update(attempts=1, due_at=BACKLOG_DUE + timedelta(minutes=2))
        await NotificationDelivery.filter(id=backlog[1]).update(due_at=BACKLOG_DUE + timedelta(minutes=3))
        assert await _claim_order(stack, BACKLOG_DUE + timedelta(minutes=10), mine) == [
            backlog[0],
            retried,
            *backlog[2:],
            backlog[1],
        ]
    finally:
        await NotificationDelivery.filter(id__in=mine).delete()
