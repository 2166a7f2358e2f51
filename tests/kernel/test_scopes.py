"""One scope choke point for everyone: staff see their subtree, workers their own records,
experts the cases assigned to them, each through what the model declares."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from models.audit import Actor
from models.enrolment.tables import Enrolment
from models.errors import NotFound
from models.kernel import assignment
from models.kernel.assignment import AssigneeKind, ExpertScope, Person
from models.kernel.machine import Step
from models.membership.tables import MembershipChange
from models.orgs import Org
from models.scope import ContactScope, StaffScope, WorkerScope
from models.scoping import Scoping
from server.clock import now
from tests.factories.enrolment import applicant
from tests.factories.unions import demo_org


async def test_workers_see_only_their_own_and_staff_their_subtree(api: httpx.AsyncClient) -> None:
    _, _, mine = await applicant(api)
    _, _, theirs = await applicant(api)
    owner = (await Enrolment.get(id=mine)).user_id
    assert [e.id for e in await WorkerScope(owner).restrict(Enrolment.filter(id__in=[mine, theirs]))] == [mine]
    with pytest.raises(NotFound):
        await WorkerScope(owner).get(Enrolment.all(), id=theirs)
    zhongshan, zhanjiang = await demo_org("中山市总工会"), await demo_org("湛江市总工会")
    assert await StaffScope(zhongshan.id, False).get(Enrolment.all(), id=mine)
    with pytest.raises(NotFound):
        await StaffScope(zhanjiang.id, False).get(Enrolment.all(), id=mine)
    # The org column comes from the model's declaration: a membership change is the reviewing union's.
    assert "review_org_id" in StaffScope(zhanjiang.id, False).restrict(MembershipChange.all()).sql()
    assert await StaffScope(zhongshan.id, False).restrict(Org.filter(id=zhanjiang.id)).count() == 0


async def test_experts_see_only_cases_offered_or_assigned_to_them(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, offered_id = await applicant(api)
    _, _, other_id = await applicant(api)
    with pytest.raises(TypeError):  # enrolments are no case experts are assigned to
        ExpertScope(4242).restrict(Enrolment.all())
    with pytest.raises(TypeError):
        ContactScope(frozenset({1})).restrict(Enrolment.all())
    # Declared for this test as a case type experts take, the way service orders declare it.
    monkeypatch.setattr(Enrolment, "SCOPING", Scoping(owner="user_id", case_type="enrolment"))
    expert = Person(AssigneeKind.EXPERT, 4242, "张国明")
    step = Step("enrolment", offered_id, "offer", "submitted", "submitted", Actor("staff", 1, "t"), "", now())
    await assignment.offer(step, (await demo_org("中山市总工会")).id, expert, now() + timedelta(days=1))
    visible = ExpertScope(4242).restrict(Enrolment.filter(id__in=[offered_id, other_id]))
    assert await visible.values_list("id", flat=True) == [offered_id]
    assert await ExpertScope(4343).restrict(Enrolment.filter(id__in=[offered_id, other_id])).count() == 0
    declined = Step("enrolment", offered_id, "decline", "submitted", "submitted", Actor("user", 1, "t"), "", now())
    await assignment.decline(declined, expert, "没空")
    assert await visible.count() == 0
