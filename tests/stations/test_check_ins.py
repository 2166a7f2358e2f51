"""Check-in by the station's signed QR code, and one rating per visit."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from models.accounts import User
from models.kernel.ratings import Rating
from models.membership.card import issue_card
from models.membership.tables import Membership
from models.stations.actions import check_in
from models.stations.tables import CheckIn
from server.clock import now
from server.crypto import CardSigner
from tests.factories.common import assert_error, bearer, login_worker
from tests.factories.stations import code_for, lonely_spot, make_station
from tests.factories.unions import demo_org

OTHER_KEY = CardSigner("b3RoZXItc2lnbmluZy1rZXktMzItYnl0ZXMtbG9uZyE=")


async def scan(api: httpx.AsyncClient, token: str, station_id: int, code: str, **headers: str) -> httpx.Response:
    return await api.post(
        f"/api/v1/stations/{station_id}/check-ins", json={"code": code}, headers={**bearer(token), **headers}
    )


async def test_a_genuine_code_records_one_visit_per_half_hour(api: httpx.AsyncClient, stack) -> None:
    station = await make_station(await demo_org("东区街道总工会"), *lonely_spot())
    token, login = await login_worker(api)
    first = await scan(api, token, station.id, code_for(stack, station.id))
    assert first.status_code == 201, first.text
    assert first.json()["repeat"] is False and first.json()["station_name"] == station.name
    again = await scan(api, token, station.id, "  " + code_for(stack, station.id) + "\n")
    assert again.status_code == 201 and again.json()["repeat"] is True and again.json()["id"] == first.json()["id"]
    # A scan after the interval is another visit (instants passed to the action).
    user = await User.get(id=login["user"]["id"])
    signer = CardSigner(stack.settings.member_card_signing_key)
    later, _, new = await check_in(signer, station.id, code_for(stack, station.id), user, now() + timedelta(minutes=31))
    assert new and later.id != first.json()["id"]
    assert await CheckIn.filter(user_id=user.id, station_id=station.id).count() == 2
    # Another worker's scan is their own visit.
    other, _ = await login_worker(api)
    assert (await scan(api, other, station.id, code_for(stack, station.id))).json()["repeat"] is False


async def test_a_retried_scan_with_its_key_is_replayed(api: httpx.AsyncClient, stack) -> None:
    station = await make_station(await demo_org("东区街道总工会"), *lonely_spot())
    token, _ = await login_worker(api)
    key = uuid.uuid4().hex
    first = await scan(api, token, station.id, code_for(stack, station.id), **{"Idempotency-Key": key})
    replay = await scan(api, token, station.id, code_for(stack, station.id), **{"Idempotency-Key": key})
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json()


async def test_forged_foreign_and_other_stations_codes_are_refused(api: httpx.AsyncClient, stack) -> None:
    org = await demo_org("东区街道总工会")
    lat, lng = lonely_spot()
    station = await make_station(org, lat, lng)
    neighbour = await make_station(org, lat, lng + 0.001)
    token, _ = await login_worker(api)
    genuine = code_for(stack, station.id)
    body, _, signature = genuine.partition(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + signature
    membership_card = issue_card(
        CardSigner(stack.settings.member_card_signing_key),
        Membership(id=1, member_no="M1", real_name="张三"),
        org,
        3600,
    )["qr_payload"]
    for forged in (tampered, OTHER_KEY.sign({"v": 1, "t": "station", "sid": station.id}), membership_card, "garbage"):
        assert_error(await scan(api, token, station.id, forged), 422, "station.code_invalid")
    assert_error(await scan(api, token, station.id, code_for(stack, neighbour.id)), 403, "station.code_other_station")
    assert_error(await scan(api, token, 2**62, genuine), 404, "station.not_found")
    assert (await api.post(f"/api/v1/stations/{station.id}/check-ins", json={"code": genuine})).status_code == 401
    assert await CheckIn.filter(station_id__in=[station.id, neighbour.id]).count() == 0
    # A station taken out of service takes no check-ins.
    closed = await make_station(org, lat, lng + 0.002, active=False)
    assert_error(await scan(api, token, closed.id, code_for(stack, closed.id)), 404, "station.not_found")


async def test_a_visit_is_rated_once_by_its_worker(api: httpx.AsyncClient, stack) -> None:
    org = await demo_org("东区街道总工会")
    station = await make_station(org, *lonely_spot())
    token, _ = await login_worker(api)
    visit = (await scan(api, token, station.id, code_for(stack, station.id))).json()["id"]
    stranger, _ = await login_worker(api)
    path = f"/api/v1/stations/check-ins/{visit}/rating"
    assert_error(await api.post(path, json={"score": 5}, headers=bearer(stranger)), 404, "record.not_found")
    assert_error(await api.post(path, json={"score": 6}, headers=bearer(token)), 422, "request.invalid")
    rated = await api.post(path, json={"score": 4, "comment": "热水很方便", "tags": ["干净"]}, headers=bearer(token))
    assert rated.status_code == 201, rated.text
    assert rated.json()["score"] == 4 and rated.json()["check_in_id"] == visit
    assert_error(await api.post(path, json={"score": 1}, headers=bearer(token)), 409, "rating.already_rated")
    stored = await Rating.get(case_type="station_check_in", case_id=visit)
    assert (stored.service_kind, stored.served_kind, stored.served_id, stored.org_id, stored.score) == (
        "station_visit",
        "station",
        station.id,
        org.id,
        4,
    )
    detail = (await api.get(f"/api/v1/stations/{station.id}")).json()
    assert detail["rating"] == {"average": 4.0, "count": 1}
