"""What a station looks like over the API, to workers and to union staff alike."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from models.catalogue import STATION_AMENITIES
from models.stations.hours import Hours
from models.stations.tables import Station
from server.http import Shape


class HoursOut(Shape):
    always: bool = Field(description="true：24 小时开放")
    open: str | None = Field(None, description="每天开放时间 HH:MM（北京时间）")
    close: str | None = Field(None, description="关闭时间 HH:MM；早于开放时间表示次日关闭，24:00 为午夜")
    label: str


class StationOut(Shape):
    id: int
    name: str
    address: str
    lat: float = Field(description="GCJ-02 纬度")
    lng: float = Field(description="GCJ-02 经度")
    amenities: list[str] = Field(description="服务设施代码，见 /api/v1/catalogue 的 station_amenities")
    amenity_labels: list[str]
    hours: HoursOut
    open_now: bool


def hours_out(stored: dict[str, object]) -> HoursOut:
    hours = Hours.parse(stored)
    shown = hours.as_dict()
    return HoursOut(always=hours.always, open=shown.get("open"), close=shown.get("close"), label=hours.label)


def station_fields(station: Station, at: datetime) -> dict[str, object]:
    return {
        "id": station.id,
        "name": station.name,
        "address": station.address,
        "lat": station.lat,
        "lng": station.lng,
        "amenities": station.amenities,
        "amenity_labels": [STATION_AMENITIES.get(code, code) for code in station.amenities],
        "hours": hours_out(station.hours),
        "open_now": Hours.parse(station.hours).is_open(at),
    }
