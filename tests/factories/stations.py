"""Rest stations, each in a place of its own far from the demo cities, and their signed codes."""

from __future__ import annotations

import itertools
import random

from models.orgs import Org
from models.scope import StaffScope
from models.stations.actions import StationInput, create_station
from models.stations.codes import station_code
from models.stations.tables import Station
from server.crypto import CardSigner
from tests.factories.common import TEST_ACTOR, unique

ALWAYS: dict[str, object] = {"always": True}

# Centres one degree apart (over 100 km, twice the largest search radius) across western China,
# where no demo station is: a test's stations are the only ones its searches can find.
_spots = itertools.count(random.randrange(400))


def lonely_spot() -> tuple[float, float]:
    n = next(_spots) % 400
    return 25.0 + n // 20, 75.0 + n % 20


async def make_station(
    org: Org,
    lat: float,
    lng: float,
    *,
    hours: dict[str, object] = ALWAYS,
    amenities: list[str] | None = None,
    active: bool = True,
) -> Station:
    return await create_station(
        StaffScope(org_id=org.id, sees_everything=True),
        StationInput(
            name=unique("测试驿站"),
            org_id=org.id,
            address="测试地址 1 号",
            lat=lat,
            lng=lng,
            hours=hours,
            amenities=["water", "rest"] if amenities is None else amenities,
            contact_phone="0760-88880000",
            active=active,
        ),
        TEST_ACTOR,
    )


def code_for(stack, station_id: int) -> str:  # type: ignore[no-untyped-def]
    return station_code(CardSigner(stack.settings.member_card_signing_key), station_id)
