"""A request's clocks at given instants, against the real database: across National Day, on a
调休 working Saturday, paused while the union waits for the worker, and escalated on breach."""

from __future__ import annotations

from datetime import datetime

import httpx

from models.kernel.history import history_of
from models.kernel.timers import sweep_timers
from models.orgs import Org
from models.warm_requests import actions, sla  # noqa: F401 - actions registers the breach handler
from models.warm_requests.tables import WarmRequest
from server.clock import SHANGHAI
from tests.factories.common import login_worker
from tests.factories.unions import demo_org, make_org


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


async def legal_aid_started(api: httpx.AsyncClient, org: Org, started: datetime) -> WarmRequest:
    """A legal-aid request whose clocks started at `started` (first response: 4 working hours)."""
    _, login = await login_worker(api)
    request = await WarmRequest.create(
        user_id=login["user"]["id"],
        org_id=org.id,
        request_type="legal_aid",
        description="拖欠工资",
        values={},
        created_at=started,
    )
    await sla.start_clocks(request, started)
    return request


async def test_first_response_counts_working_hours_across_national_day(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    request = await legal_aid_started(api, org, at(9, 30, 17))  # Wednesday 17:00, National Day next
    views = await sla.sla_views([request.id], at(10, 3, 9))
    # One hour on 30 September, none from 1 to 7 October, three on Thursday 8 October.
    assert views[request.id].first_response_due_at == at(10, 8, 12)
    assert views[request.id].state == "on_track"


async def test_a_working_saturday_counts_and_next_monday_is_on_track(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    request = await legal_aid_started(api, org, at(10, 9, 17))  # Friday 17:00; Saturday 10 October is 调休
    assert (await sla.sla_views([request.id], at(10, 10, 11)))[request.id].state == "on_track"
    assert (await sla.sla_views([request.id], at(10, 10, 11, 30)))[request.id].state == "at_risk"  # 80 % at 11:12
    view = (await sla.sla_views([request.id], at(10, 10, 12, 30)))[request.id]
    assert view.first_response_due_at == at(10, 10, 12) and view.state == "breached"
    # The union answers at 10:00 on the Saturday and waits for the worker until Monday 10:00.
    await sla.waiting_for_worker(request, at(10, 10, 10))
    paused = (await sla.sla_views([request.id], at(10, 12, 9)))[request.id]
    assert paused.state == "paused"
    await sla.resume(request, at(10, 12, 10))
    monday_noon = (await sla.sla_views([request.id], at(10, 12, 12)))[request.id]
    assert monday_noon.state == "on_track"
    # 60 (Friday) + 60 (Saturday 9-10) + 120 (Monday 10-12) of its 4,500 minutes are used by noon;
    # the other 4,260 run to Friday 23 October 17:00 (Saturday the 17th is an ordinary weekend).
    assert monday_noon.resolution_due_at == at(10, 23, 17)


async def test_a_breach_escalates_to_the_parent_union_once(api: httpx.AsyncClient) -> None:
    city = await demo_org("中山市总工会")
    town = await make_org(city)
    request = await legal_aid_started(api, town, at(10, 9, 17))
    breached_at = at(10, 10, 12, 30)
    while len(await sweep_timers(breached_at)) >= 200:
        pass
    moved = await WarmRequest.get(id=request.id)
    assert moved.org_id == city.id and moved.assignee_id is None
    escalations = [e for e in await history_of("warm_request", request.id) if e.action == "escalate"]
    assert len(escalations) == 1
    assert escalations[0].actor_kind == "system" and escalations[0].note == "首次响应超时，已上报上级工会"
    assert escalations[0].data == {"from_org_id": town.id, "to_org_id": city.id, "to_org": city.name}
    await sweep_timers(at(10, 10, 13))  # swept again: alerted once, moved once
    assert len([e for e in await history_of("warm_request", request.id) if e.action == "escalate"]) == 1
    assert (await WarmRequest.get(id=request.id)).org_id == city.id
    # The queue's filter decides the same states in the database, at any instant.
    fresh = await legal_aid_started(api, town, at(10, 9, 17))
    for state, instant in (("on_track", at(10, 9, 17, 30)), ("at_risk", at(10, 10, 11, 30)), ("breached", breached_at)):
        found = sla.filter_by_sla(WarmRequest.filter(id=fresh.id), state, instant)
        assert await found.count() == 1, state
        assert (await sla.sla_views([fresh.id], instant))[fresh.id].state == state
