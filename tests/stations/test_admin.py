"""Union admins keep the stations of their subtree (audited); caseworkers may only read them."""

from __future__ import annotations

import httpx

from models.accounts import StaffRole
from models.audit import AuditEntry
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.stations import lonely_spot, make_station
from tests.factories.unions import demo_org, make_staff


def station_body(org_id: int, lat: float, lng: float, **overrides: object) -> dict:
    body = {
        "name": "东区测试驿站",
        "org_id": org_id,
        "address": "中山市东区某路 1 号",
        "lat": lat,
        "lng": lng,
        "hours": {"open": "０８:００", "close": "20:00"},
        "amenities": ["microwave", "water"],
        "contact_phone": "０７６０-88880000",
    }
    body.update(overrides)
    return body


async def test_a_union_admin_keeps_stations_and_prints_their_codes(api: httpx.AsyncClient) -> None:
    city = await demo_org("中山市总工会")
    street = await demo_org("东区街道总工会")
    admin = bearer(await login_staff(api, (await make_staff(city, StaffRole.UNION_ADMIN)).username))
    lat, lng = lonely_spot()
    created = await api.post("/api/v1/admin/stations", json=station_body(street.id, lat, lng), headers=admin)
    assert created.status_code == 201, created.text
    station = created.json()
    assert station["amenities"] == ["water", "microwave"]  # in the catalogue's order
    # Full-width digits from a Chinese input method are the same time and the same number.
    assert station["contact_phone"] == "0760-88880000" and station["org_name"] == street.name
    assert station["hours"] == {"always": False, "open": "08:00", "close": "20:00", "label": "每天 08:00-20:00"}
    listed = (await api.get("/api/v1/admin/stations", params={"org_id": street.id}, headers=admin)).json()
    assert station["id"] in [item["id"] for item in listed["items"]]

    changed = await api.put(
        f"/api/v1/admin/stations/{station['id']}",
        json=station_body(street.id, lat, lng, hours={"always": True}, amenities=["charging"]),
        headers=admin,
    )
    assert changed.status_code == 200 and changed.json()["hours"]["always"] is True
    assert changed.json()["amenities"] == ["charging"]
    entries = await AuditEntry.filter(object_type="station", object_id=str(station["id"])).order_by("id")
    assert [entry.action for entry in entries] == ["station.create", "station.update"]
    assert entries[1].before["amenities"] == ["water", "microwave"] and entries[1].after["amenities"] == ["charging"]

    # The printed code checks a worker in.
    qr = (await api.get(f"/api/v1/admin/stations/{station['id']}/qr", headers=admin)).json()
    assert qr["svg"].startswith("<svg") and qr["station_id"] == station["id"]
    token, _ = await login_worker(api)
    visit = await api.post(
        f"/api/v1/stations/{station['id']}/check-ins", json={"code": qr["code"]}, headers=bearer(token)
    )
    assert visit.status_code == 201, visit.text
    assert await AuditEntry.exists(action="station.code_issued", object_id=str(station["id"]))

    # Taken out of service: no longer found by workers.
    await api.put(
        f"/api/v1/admin/stations/{station['id']}", json=station_body(street.id, lat, lng, active=False), headers=admin
    )
    nearby = (await api.get("/api/v1/stations/nearby", params={"lat": lat, "lng": lng})).json()
    assert station["id"] not in [item["id"] for item in nearby["items"]]


async def test_bad_stations_are_refused_and_change_nothing(api: httpx.AsyncClient) -> None:
    street = await demo_org("东区街道总工会")
    admin = bearer(await login_staff(api, (await make_staff(street, StaffRole.UNION_ADMIN)).username))
    lat, lng = lonely_spot()
    refusals = [
        ({"hours": {"open": "20:00", "close": "20:00"}}, "station.hours_invalid"),
        ({"hours": {"open": "8:00", "close": "20:00"}}, "station.hours_invalid"),
        ({"hours": {"open": "٠٨:٠٠", "close": "20:00"}}, "station.hours_invalid"),
        ({"hours": {"always": True, "open": "08:00"}}, "station.hours_invalid"),
        ({"hours": {}}, "station.hours_invalid"),
        ({"amenities": ["water", "sauna"]}, "catalogue.unknown_amenity"),
        ({"contact_phone": "call me"}, "station.phone_invalid"),
        ({"name": "   "}, "station.name_required"),
        ({"lat": 91}, "request.invalid"),
    ]
    for overrides, code in refusals:
        body = {**station_body(street.id, lat, lng), **overrides}
        assert_error(await api.post("/api/v1/admin/stations", json=body, headers=admin), 422, code)
    nearby = (await api.get("/api/v1/stations/nearby", params={"lat": lat, "lng": lng})).json()
    assert nearby["total"] == 0


async def test_another_unions_station_does_not_exist_for_them(api: httpx.AsyncClient) -> None:
    shenzhen_station = await make_station(await demo_org("华强北街道总工会"), *lonely_spot())
    zhongshan = await demo_org("中山市总工会")
    admin = bearer(await login_staff(api, (await make_staff(zhongshan, StaffRole.UNION_ADMIN)).username))
    path = f"/api/v1/admin/stations/{shenzhen_station.id}"
    body = station_body(zhongshan.id, shenzhen_station.lat, shenzhen_station.lng)
    assert_error(await api.get(path, headers=admin), 404, "record.not_found")
    assert_error(await api.put(path, json=body, headers=admin), 404, "record.not_found")
    assert_error(await api.get(f"{path}/qr", headers=admin), 404, "record.not_found")
    listed = (await api.get("/api/v1/admin/stations", params={"page_size": 100}, headers=admin)).json()
    assert shenzhen_station.id not in [item["id"] for item in listed["items"]]
    outside = station_body((await demo_org("深圳市总工会")).id, 22.54, 114.05)
    assert_error(await api.post("/api/v1/admin/stations", json=outside, headers=admin), 404, "org.not_found")
    # Nor may a station of theirs be moved out of their subtree.
    own = await make_station(await demo_org("东区街道总工会"), *lonely_spot())
    moved = station_body((await demo_org("深圳市总工会")).id, own.lat, own.lng)
    assert_error(await api.put(f"/api/v1/admin/stations/{own.id}", json=moved, headers=admin), 404, "org.not_found")


async def test_caseworkers_read_but_do_not_keep_stations(api: httpx.AsyncClient) -> None:
    zhongshan = await demo_org("中山市总工会")
    station = await make_station(await demo_org("东区街道总工会"), *lonely_spot())
    caseworker = bearer(await login_staff(api, (await make_staff(zhongshan)).username))
    assert (await api.get(f"/api/v1/admin/stations/{station.id}", headers=caseworker)).status_code == 200
    assert (await api.get("/api/v1/admin/stations", headers=caseworker)).status_code == 200
    body = station_body(zhongshan.id, station.lat, station.lng)
    for refused in (
        await api.post("/api/v1/admin/stations", json=body, headers=caseworker),
        await api.put(f"/api/v1/admin/stations/{station.id}", json=body, headers=caseworker),
        await api.get(f"/api/v1/admin/stations/{station.id}/qr", headers=caseworker),
    ):
        error = assert_error(refused, 403, "auth.role_forbidden")
        assert error["details"] == {"permission": "admin:stations:manage"}


async def test_the_catalogue_lists_amenities_with_labels(api: httpx.AsyncClient) -> None:
    catalogue = (await api.get("/api/v1/catalogue")).json()
    amenities = {item["code"]: item["label"] for item in catalogue["station_amenities"]}
    assert amenities["water"] == "饮水" and amenities["microwave"] == "热饭" and amenities["first_aid"] == "医药箱"
