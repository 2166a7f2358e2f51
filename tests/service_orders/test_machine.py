"""The state table itself: who may take each step from which state, and what a refusal says."""

from __future__ import annotations

import pytest

from models.errors import Conflict, Forbidden
from models.kernel.machine import NEW
from models.service_orders.machine import MACHINE
from models.service_orders.tables import OrderStatus as S

# action -> (who, from which states, to which state); written out again on purpose, so that a
# change to the table must be a change to this test too.
EXPECTED = {
    "submit": ("contact", {NEW}, S.SUBMITTED),
    "offer": ("staff", {S.SUBMITTED, S.MATCHING}, S.OFFERED),
    "accept": ("expert", {S.OFFERED}, S.ACCEPTED),
    "decline": ("expert", {S.OFFERED}, S.MATCHING),
    "offer_expired": ("system", {S.OFFERED}, S.MATCHING),
    "first_visit": ("expert", {S.ACCEPTED}, S.IN_PROGRESS),
    "visit": ("expert", {S.IN_PROGRESS}, None),
    "deliver": ("expert", {S.IN_PROGRESS}, S.DELIVERED),
    "confirm": ("contact", {S.DELIVERED}, S.CONFIRMED),
    "rate": ("contact", {S.CONFIRMED}, S.CLOSED),
    "cancel": ("contact", {S.SUBMITTED, S.MATCHING, S.OFFERED, S.ACCEPTED}, S.CANCELLED),
    "cancel_by_union": (
        "staff",
        {S.SUBMITTED, S.MATCHING, S.OFFERED, S.ACCEPTED, S.IN_PROGRESS, S.DELIVERED},
        S.CANCELLED,
    ),
}
ACTORS = ("contact", "expert", "staff", "system", "user")
STATES = [NEW, *(s.value for s in S)]


def test_the_table_is_as_specified() -> None:
    assert set(MACHINE.moves) == set(EXPECTED)
    for action, (who, sources, target) in EXPECTED.items():
        move = MACHINE.moves[action]
        assert move.by == {who} and move.sources == sources and move.target == target, action


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_every_step_allowed_and_refused(action: str) -> None:
    who, sources, target = EXPECTED[action]
    for state in STATES:
        for actor in ACTORS:
            if actor != who:
                with pytest.raises(Forbidden) as refused:
                    MACHINE.check(state, action, actor)
                assert refused.value.status == 403 and refused.value.code == "service_order.action_forbidden"
            elif state not in sources:
                with pytest.raises(Conflict) as refused:
                    MACHINE.check(state, action, actor)
                assert refused.value.status == 409 and refused.value.code == "service_order.invalid_transition"
                assert "服务订单当前状态为" in refused.value.message
            else:
                assert MACHINE.check(state, action, actor).target == target


def test_closed_and_cancelled_orders_take_no_step() -> None:
    for state in (S.CLOSED, S.CANCELLED):
        assert all(not MACHINE.actions_from(state, actor) for actor in ACTORS)
