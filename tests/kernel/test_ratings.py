"""Ratings: one per case per rater, and figures by subtree, service kind and month."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from models.errors import Conflict, Invalid
from models.kernel.ratings import Served, rate, rating_figures, served_average
from models.scope import StaffScope
from server.clock import SHANGHAI
from tests.factories.unions import demo_org, make_org


def case() -> int:
    return uuid.uuid4().int % 10**12


async def _rate(
    org_id: int,
    score: int,
    at: datetime,
    *,
    kind: str = "warm_request",
    served: Served,
    rater: int = 1,
    case_id: int | None = None,
):  # type: ignore[no-untyped-def]
    return await rate(
        case_type=kind,
        case_id=case_id or case(),
        rater_user_id=rater,
        service_kind=kind,
        served=served,
        org_id=org_id,
        score=score,
        comment="很有帮助",
        tags=["及时"],
        at=at,
    )


async def test_one_rating_per_case_per_rater_and_scores_checked() -> None:
    org = await make_org(await demo_org("中山市总工会"))
    served = Served("staff", 90001)
    case_id = case()
    await _rate(org.id, 5, datetime(2026, 11, 3, tzinfo=SHANGHAI), served=served, case_id=case_id)
    with pytest.raises(Conflict):
        await _rate(org.id, 4, datetime(2026, 11, 4, tzinfo=SHANGHAI), served=served, case_id=case_id)
    await _rate(org.id, 3, datetime(2026, 11, 4, tzinfo=SHANGHAI), served=served, case_id=case_id, rater=2)
    for bad in (0, 6):
        with pytest.raises(Invalid):
            await _rate(org.id, bad, datetime(2026, 11, 4, tzinfo=SHANGHAI), served=served)
    assert await served_average(served) == (4.0, 2)


async def test_figures_roll_up_the_subtree_by_kind_and_month() -> None:
    city = await make_org(await demo_org("中山市总工会"))
    town = await make_org(city)
    elsewhere = await make_org(await demo_org("湛江市总工会"))
    served = Served("expert", 90002)
    # 23:30 on 31 October in Beijing is still October, though it is 15:30 UTC.
    await _rate(town.id, 4, datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI), served=served, kind="service_order")
    await _rate(town.id, 5, datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI), served=served, kind="service_order")
    await _rate(city.id, 2, datetime(2026, 11, 2, tzinfo=SHANGHAI), served=served, kind="service_order")
    await _rate(city.id, 5, datetime(2026, 11, 2, tzinfo=SHANGHAI), served=served, kind="station_visit")
    await _rate(elsewhere.id, 1, datetime(2026, 11, 2, tzinfo=SHANGHAI), served=served, kind="service_order")

    figures = await rating_figures(StaffScope(city.id, sees_everything=False))
    table = {(f.service_kind, f.month): (f.count, f.average) for f in figures}
    assert table == {
        ("service_order", "2026-11"): (2, 3.5),
        ("service_order", "2026-10"): (1, 4.0),
        ("station_visit", "2026-11"): (1, 5.0),
    }
    town_only = await rating_figures(StaffScope(city.id, sees_everything=False), org_id=town.id)
    assert {(f.month, f.count) for f in town_only} == {("2026-11", 1), ("2026-10", 1)}
