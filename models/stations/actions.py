"""What changes stations and visits: union admins keep stations (audited); workers check in with
the station's code and rate the visit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models.accounts import User
from models.audit import Actor, record
from models.catalogue import STATION_AMENITIES
from models.errors import Invalid, NotFound
from models.kernel.ratings import Rating, Served, rate
from models.profiles.identity import ascii_form
from models.scope import StaffScope, WorkerScope
from models.stations.codes import check_code, station_code
from models.stations.hours import Hours
from models.stations.tables import CheckIn, Station
from server.crypto import CardSigner

# A second scan within this time is the same visit (a worker scanning twice, a retried request).
CHECK_IN_INTERVAL = timedelta(minutes=30)
CASE_TYPE = "station_check_in"
SERVICE_KIND = "station_visit"
_PHONE_CHARACTERS = frozenset("0123456789-+ ")


@dataclass(frozen=True)
class StationInput:
    name: str
    org_id: int
    address: str
    lat: float
    lng: float
    hours: Mapping[str, object]
    amenities: list[str] = field(default_factory=list)
    contact_phone: str = ""
    active: bool = True


def _clean(data: StationInput) -> dict[str, object]:
    """The station's columns from an admin's input, or `Invalid` naming the field."""
    name, address = data.name.strip(), data.address.strip()
    if not name:
        raise Invalid("station.name_required", "请填写驿站名称", {"field": "name"})
    if not address:
        raise Invalid("station.address_required", "请填写驿站地址", {"field": "address"})
    if not (-90 <= data.lat <= 90 and -180 <= data.lng <= 180):
        raise Invalid("station.location_invalid", "坐标超出范围（纬度 -90 至 90，经度 -180 至 180）", {"field": "lat"})
    unknown = [code for code in data.amenities if code not in STATION_AMENITIES]
    if unknown:
        raise Invalid(
            "catalogue.unknown_amenity",
            "服务设施不在可选列表中",
            {"field": "amenities", "unknown": unknown[:10], "choices": list(STATION_AMENITIES)},
        )
    phone = ascii_form(data.contact_phone).strip()
    if not set(phone) <= _PHONE_CHARACTERS:
        raise Invalid("station.phone_invalid", "联系电话只能包含数字、“-”和“+”", {"field": "contact_phone"})
    return {
        "name": name,
        "org_id": data.org_id,
        "address": address,
        "lat": data.lat,
        "lng": data.lng,
        "hours": Hours.parse(data.hours).as_dict(),
        "amenities": [code for code in STATION_AMENITIES if code in data.amenities],  # catalogue order
        "contact_phone": phone,
        "active": data.active,
    }


def _audited(station: Station) -> dict[str, object]:
    return {
        name: getattr(station, name)
        for name in ("name", "org_id", "address", "lat", "lng", "hours", "amenities", "contact_phone", "active")
    }


async def create_station(scope: StaffScope, data: StationInput, actor: Actor) -> Station:
    values = _clean(data)
    await scope.require(data.org_id)
    async with in_transaction():
        station = await Station.create(**values)
        await record(
            actor, "station.create", object_type="station", object_id=station.id, org_id=station.org_id, after=values
        )
    return station


async def update_station(scope: StaffScope, station_id: int, data: StationInput, actor: Actor) -> Station:
    """Replaces every field; moving a station to another union needs that union in scope too."""
    values = _clean(data)
    async with in_transaction():
        station = await scope.get(Station.all().select_for_update(), id=station_id)
        if data.org_id != station.org_id:
            await scope.require(data.org_id)
        before = _audited(station)
        await station.update_from_dict(values).save()
        await record(
            actor,
            "station.update",
            object_type="station",
            object_id=station.id,
            org_id=station.org_id,
            before=before,
            after=_audited(station),
        )
    return station


async def set_active(scope: StaffScope, station_id: int, active: bool, actor: Actor) -> Station:
    """Stop (or resume) showing a station to workers; its visits and ratings stay."""
    async with in_transaction():
        station = await scope.get(Station.all().select_for_update(), id=station_id)
        if station.active != active:
            station.active = active
            await station.save(update_fields=["active", "updated_at"])
            action = "station.activate" if active else "station.deactivate"
            await record(actor, action, object_type="station", object_id=station.id, org_id=station.org_id)
    return station


async def issue_code(scope: StaffScope, signer: CardSigner, station_id: int, actor: Actor) -> tuple[Station, str]:
    """The code to print; handing it out is audited, as it lets anyone holding it check in."""
    station = await scope.get(Station.all(), id=station_id)
    await record(actor, "station.code_issued", object_type="station", object_id=station.id, org_id=station.org_id)
    return station, station_code(signer, station.id)


async def check_in(
    signer: CardSigner, station_id: int, code: str, user: User, at: datetime
) -> tuple[CheckIn, Station, bool]:
    """The worker's visit, its station, and whether the visit is new: a second scan within
    `CHECK_IN_INTERVAL` is the visit already recorded."""
    async with in_transaction():
        # Locking the station serialises two scans at once, so they cannot both record a visit.
        station = await Station.filter(id=station_id, active=True).select_for_update().get_or_none()
        if station is None:
            raise NotFound("station.not_found", "驿站不存在或已停用", {"station_id": station_id})
        check_code(signer, code, station.id)
        recent = (
            await CheckIn.filter(user_id=user.id, station_id=station.id, checked_in_at__gt=at - CHECK_IN_INTERVAL)
            .order_by("-checked_in_at")
            .first()
        )
        if recent is not None:
            return recent, station, False
        visit = await CheckIn.create(station_id=station.id, user_id=user.id, org_id=station.org_id, checked_in_at=at)
        return visit, station, True


async def rate_visit(user_id: int, check_in_id: int, score: int, comment: str, tags: list[str], at: datetime) -> Rating:
    """Once per visit (the kernel's unique key); the rating belongs to the station and its union."""
    visit = await WorkerScope(user_id).get(CheckIn.all(), id=check_in_id)
    return await rate(
        case_type=CASE_TYPE,
        case_id=visit.id,
        rater_user_id=user_id,
        service_kind=SERVICE_KIND,
        served=Served("station", visit.station_id),
        org_id=visit.org_id,
        score=score,
        comment=comment,
        tags=tags,
        at=at,
    )
