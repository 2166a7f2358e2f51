"""Which union a request goes to: the chosen one, the member's own, the union serving where the
worker is (deepest circle, then nearest centre), the union for their platform in their city, the
city, the province; and union admins keeping areas and platforms."""

from __future__ import annotations

import math

import httpx

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.orgs import Org, OrgType
from tests.factories.common import assert_error, bearer, login_staff, login_worker, unique
from tests.factories.enrolment import applicant
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, give_service, make_org, make_staff, remote_point
from tests.factories.warm_requests import LEGAL_AID

ROUTED = {key: value for key, value in LEGAL_AID.items() if key != "location"}


def moved(point: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat, lng = point
    return lat + north_m / 111_195, lng + east_m / (111_195 * math.cos(math.radians(lat)))


async def routed_to(api: httpx.AsyncClient, token: str, point: tuple[float, float] | None) -> Org:
    body = {**ROUTED, **({"location": {"lat": point[0], "lng": point[1]}} if point else {})}
    answer = await api.post("/api/v1/warm-requests", json=body, headers=bearer(token))
    assert answer.status_code == 201, answer.text
    return await Org.get(id=answer.json()["org"]["id"])


async def a_city() -> tuple[Org, str]:
    """A new city union under the province, and the city name a worker's profile gives for it."""
    city_name = unique("测试市")
    province = await Org.filter(parent_id=None).order_by("id").first()
    return await make_org(province, name=f"{city_name}总工会", org_type=OrgType.CITY), city_name


async def test_the_deepest_union_whose_area_holds_the_point(api: httpx.AsyncClient) -> None:
    city, city_name = await a_city()
    district = await make_org(city, org_type=OrgType.DISTRICT)
    street = await make_org(district, org_type=OrgType.TOWN)
    neighbour = await make_org(district, org_type=OrgType.TOWN)
    centre = remote_point()
    await give_service(district, (*centre, 10_000))
    await give_service(street, (*moved(centre, 0, -1_500), 2_000))
    await give_service(neighbour, (*moved(centre, 0, 1_500), 2_000))
    token, _ = await worker_with_profile(api, city=city_name, platform="none")

    # In the district's circle and in no street's: the district.
    assert (await routed_to(api, token, moved(centre, 5_000, 0))).id == district.id
    # Inside a street's circle (and the district's): the deeper street union.
    assert (await routed_to(api, token, moved(centre, 0, -2_500))).id == street.id
    # In both streets' circles: the nearer centre (400 m west of the middle is nearer the west one).
    assert (await routed_to(api, token, moved(centre, 0, -400))).id == street.id
    assert (await routed_to(api, token, moved(centre, 0, 400))).id == neighbour.id
    # Outside every circle: the city of the profile; without a location, too.
    assert (await routed_to(api, token, moved(centre, 20_000, 0))).id == city.id
    assert (await routed_to(api, token, None)).id == city.id


async def test_the_platform_union_of_the_city_then_the_city_then_the_province(api: httpx.AsyncClient) -> None:
    city, city_name = await a_city()
    industry = await make_org(city, org_type=OrgType.INDUSTRY)
    station_union = await make_org(industry, org_type=OrgType.PLATFORM)
    await give_service(industry, platforms=("meituan", "eleme"))
    await give_service(station_union, platforms=("meituan",))
    elsewhere, _ = await a_city()
    await give_service(await make_org(elsewhere, org_type=OrgType.INDUSTRY), platforms=("didi",))
    nowhere = remote_point()

    rider, _ = await worker_with_profile(api, city=city_name, platform="meituan")
    assert (await routed_to(api, rider, nowhere)).id == industry.id  # the highest serving it in the city
    eleme, _ = await worker_with_profile(api, city=city_name, platform="eleme")
    assert (await routed_to(api, eleme, None)).id == industry.id
    # A didi driver of this city: the didi union is in another city, so the city union.
    driver, _ = await worker_with_profile(api, city=city_name, platform="didi")
    assert (await routed_to(api, driver, None)).id == city.id
    # The city written without 市 finds the city's 市总工会, and with it a union named without.
    base = unique("测试")
    shi = await make_org(
        await Org.filter(parent_id=None).order_by("id").first(), name=f"{base}市总工会", org_type=OrgType.CITY
    )
    plain, _ = await worker_with_profile(api, city=base, platform="none")
    assert (await routed_to(api, plain, None)).id == shi.id
    with_shi, _ = await worker_with_profile(api, city=f"{city_name}市", platform="none")
    assert (await routed_to(api, with_shi, None)).id == city.id
    # No city union by that name, or no profile at all: the province.
    stranger, _ = await worker_with_profile(api, city=unique("无此市"), platform="meituan")
    province = await Org.filter(parent_id=None).order_by("id").first()
    assert province is not None and (await routed_to(api, stranger, None)).id == province.id
    no_profile, _ = await login_worker(api)
    assert (await routed_to(api, no_profile, None)).id == province.id


async def test_the_members_own_union_and_the_chosen_one_come_first(api: httpx.AsyncClient) -> None:
    zhongshan = await demo_org("中山市总工会")
    east = await demo_org("东区街道总工会")
    in_east = (22.5205, 113.3990)  # the demo's 东区街道 circle
    token, _ = await worker_with_profile(api, city="中山市", platform="meituan")
    assert (await routed_to(api, token, in_east)).id == east.id
    # Not in any circle: the union for 美团 riders in 中山 (the demo's 新就业形态 federation).
    assert (await routed_to(api, token, (22.40, 113.20))).name == "中山市新就业形态劳动者工会联合会"
    chosen = await api.post(
        "/api/v1/warm-requests",
        json={**LEGAL_AID, "location": {"lat": in_east[0], "lng": in_east[1]}, "org_id": zhongshan.id},
        headers=bearer(token),
    )
    assert chosen.json()["org"]["id"] == zhongshan.id
    unknown = await api.post("/api/v1/warm-requests", json={**LEGAL_AID, "org_id": 2**40}, headers=bearer(token))
    assert_error(unknown, 404, "org.not_found")
    # A member is served by their own union wherever they are.
    member_token, _, enrolment_id = await applicant(api, org_name="火炬开发区总工会")
    enrolling = await login_staff(api, (await make_staff(zhongshan)).username)
    approved = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(enrolling))
    assert approved.status_code == 200, approved.text
    assert (await routed_to(api, member_token, in_east)).name == "火炬开发区总工会"


async def test_union_admins_keep_areas_and_platforms_of_their_subtree(api: httpx.AsyncClient) -> None:
    city, _ = await a_city()
    town = await make_org(city, org_type=OrgType.TOWN)
    admin = await login_staff(api, (await make_staff(city, StaffRole.UNION_ADMIN)).username)
    caseworker = await login_staff(api, (await make_staff(city)).username)
    path = f"/api/v1/admin/orgs/{town.id}/service"
    centre = remote_point()
    body = {"area": {"lat": centre[0], "lng": centre[1], "radius_m": 3000}, "platforms": ["eleme", "meituan"]}

    assert (await api.get(path, headers=bearer(caseworker))).json() == {
        "org_id": town.id,
        "area": None,
        "platforms": [],
    }
    assert_error(await api.put(path, json=body, headers=bearer(caseworker)), 403, "auth.role_forbidden")
    saved = await api.put(path, json=body, headers=bearer(admin))
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"org_id": town.id, **body, "platforms": ["meituan", "eleme"]}  # catalogue order
    assert (await api.get(path, headers=bearer(caseworker))).json() == saved.json()
    entry = await AuditEntry.filter(action="org.service_set", object_id=str(town.id)).order_by("-id").first()
    assert entry is not None and entry.before == {"area": None, "platforms": []}
    assert entry.after["platforms"] == ["meituan", "eleme"]
    token, _ = await login_worker(api)
    assert (await routed_to(api, token, moved(centre, 1_000, 1_000))).id == town.id

    for bad in (
        {**body, "area": {**body["area"], "radius_m": 60_000}},
        {**body, "area": {**body["area"], "lat": 91}},
        {**body, "platforms": ["none"]},
        {**body, "platforms": ["uber"]},
    ):
        assert (await api.put(path, json=bad, headers=bearer(admin))).status_code == 422
    assert (await api.get(path, headers=bearer(admin))).json() == saved.json()  # bad input changed nothing
    cleared = await api.put(path, json={"area": None, "platforms": []}, headers=bearer(admin))
    assert cleared.json() == {"org_id": town.id, "area": None, "platforms": []}
    assert (await routed_to(api, token, moved(centre, 1_000, 1_000))).id != town.id
    # Outside the admin's subtree the union does not exist for them.
    elsewhere = await demo_org("湛江市总工会")
    assert_error(
        await api.put(f"/api/v1/admin/orgs/{elsewhere.id}/service", json=body, headers=bearer(admin)),
        404,
        "org.not_found",
    )
    assert_error(
        await api.get(f"/api/v1/admin/orgs/{elsewhere.id}/service", headers=bearer(admin)), 404, "org.not_found"
    )
