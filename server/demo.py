"""Demo data from DOMAIN.md: the Guangdong union tree, staff accounts at several levels, and rest
stations around 中山 and 深圳.

Loaded by `python -m server load-demo` (and by `make run` when the database is empty). Every
demo account's password is `DEMO_ADMIN_PASSWORD`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.accounts import StaffAccount, StaffRole
from models.audit import Actor
from models.orgs import Org, OrgType, create_org
from models.scope import StaffScope
from models.stations.actions import StationInput, create_station
from models.unions.staff import create_staff


@dataclass
class DemoOrg:
    name: str
    org_type: OrgType
    region_code: str
    accepts_members: bool = False
    children: list[DemoOrg] = field(default_factory=list)


T = OrgType
DEMO_TREE = DemoOrg(
    "广东省总工会",
    T.PROVINCE,
    "440000",
    children=[
        DemoOrg(
            "深圳市总工会",
            T.CITY,
            "440300",
            children=[
                DemoOrg(
                    "福田区总工会",
                    T.DISTRICT,
                    "440304",
                    children=[
                        DemoOrg(
                            "华强北街道总工会",
                            T.TOWN,
                            "440304008",
                            True,
                            children=[
                                DemoOrg("顺丰速运深圳福田片区工会", T.ENTERPRISE, "440304008", True),
                            ],
                        ),
                    ],
                ),
                DemoOrg("深圳市快递行业工会联合会", T.INDUSTRY, "440300", True),
            ],
        ),
        DemoOrg(
            "佛山市总工会",
            T.CITY,
            "440600",
            children=[
                DemoOrg(
                    "高明区总工会",
                    T.DISTRICT,
                    "440608",
                    children=[
                        DemoOrg(
                            "荷城街道总工会",
                            T.TOWN,
                            "440608001",
                            True,
                            children=[
                                DemoOrg("广东坚派新材料有限公司工会", T.ENTERPRISE, "440608001", True),
                            ],
                        ),
                        DemoOrg("高明区新材料产业园区工会", T.PARK, "440608", True),
                    ],
                ),
            ],
        ),
        DemoOrg(
            "中山市总工会",
            T.CITY,
            "442000",
            children=[
                DemoOrg("中山市新就业形态劳动者工会联合会", T.INDUSTRY, "442000", True),
                DemoOrg(
                    "东区街道总工会",
                    T.TOWN,
                    "442000003",
                    True,
                    children=[
                        DemoOrg("美团中山外卖配送站点工会", T.PLATFORM, "442000003", True),
                    ],
                ),
                DemoOrg("火炬开发区总工会", T.PARK, "442000100", True),
            ],
        ),
        DemoOrg(
            "湛江市总工会",
            T.CITY,
            "440800",
            children=[
                DemoOrg("徐闻县总工会", T.DISTRICT, "440825", True),
                DemoOrg("雷州市总工会", T.DISTRICT, "440882", True),
                DemoOrg(
                    "霞山区总工会",
                    T.DISTRICT,
                    "440803",
                    children=[
                        DemoOrg("湛江市货车司机工会", T.INDUSTRY, "440803", True),
                    ],
                ),
            ],
        ),
    ],
)


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    role: StaffRole
    org_name: str


DEMO_STAFF = [
    DemoStaff("admin", "系统管理员", StaffRole.SUPERADMIN, "广东省总工会"),
    DemoStaff("shenzhen", "深圳市总工会·李敏", StaffRole.UNION_ADMIN, "深圳市总工会"),
    DemoStaff("zhongshan", "中山市总工会·陈静", StaffRole.CASEWORKER, "中山市总工会"),
    DemoStaff("gaoming", "高明区总工会·梁伟", StaffRole.UNION_ADMIN, "高明区总工会"),
    DemoStaff("zhanjiang", "湛江市总工会·黄海", StaffRole.CASEWORKER, "湛江市总工会"),
]

SYSTEM_ACTOR = Actor("system", None, "demo-loader")

ALWAYS = {"always": True}
BASIC = ["water", "rest", "charging", "microwave", "toilet"]


def _daily(opening: str, closing: str) -> dict[str, object]:
    return {"open": opening, "close": closing}


# (union, name, address, GCJ-02 lat, lng, hours, amenities, phone): real-looking places near the
# city centres (中山 ≈ 22.517, 113.392; 深圳福田 ≈ 22.541, 114.055).
DEMO_STATIONS = [
    (
        "东区街道总工会",
        "东区街道工会驿站（博爱路）",
        "中山市东区博爱六路 28 号",
        22.5176,
        113.4012,
        _daily("08:00", "20:00"),
        [*BASIC, "first_aid", "air_conditioning"],
        "0760-88331234",
    ),
    (
        "东区街道总工会",
        "兴中广场户外劳动者服务站",
        "中山市东区兴中道 6 号兴中广场东侧",
        22.5231,
        113.3957,
        ALWAYS,
        ["water", "rest", "charging", "toilet", "wifi"],
        "0760-88335678",
    ),
    (
        "美团中山外卖配送站点工会",
        "美团骑手之家（石岐站）",
        "中山市石岐区孙文中路 135 号",
        22.5198,
        113.3806,
        _daily("10:00", "22:00"),
        [*BASIC, "ebike_charging", "ebike_parking"],
        "13926012345",
    ),
    (
        "中山市新就业形态劳动者工会联合会",
        "新就业形态劳动者驿站（中山站）",
        "中山市石岐区莲员东路 2 号",
        22.5132,
        113.3888,
        ALWAYS,
        [*BASIC, "first_aid", "wifi", "air_conditioning"],
        "0760-88880001",
    ),
    (
        "火炬开发区总工会",
        "火炬开发区职工驿站",
        "中山市火炬开发区康乐大道 47 号",
        22.5427,
        113.4791,
        _daily("07:30", "21:30"),
        ["water", "rest", "microwave", "toilet", "ebike_parking"],
        "0760-85591234",
    ),
    (
        "中山市总工会",
        "中国银行中山分行爱心驿站",
        "中山市东区中山四路 50 号",
        22.5162,
        113.3993,
        _daily("09:00", "17:00"),
        ["water", "rest", "charging", "toilet", "air_conditioning"],
        "0760-88812345",
    ),
    (
        "华强北街道总工会",
        "华强北工会驿站",
        "深圳市福田区华强北路 1002 号",
        22.5445,
        114.0851,
        ALWAYS,
        [*BASIC, "first_aid", "wifi", "air_conditioning"],
        "0755-83661234",
    ),
    (
        "顺丰速运深圳福田片区工会",
        "顺丰小哥之家（福田中心区）",
        "深圳市福田区福华三路 88 号",
        22.5362,
        114.0576,
        _daily("08:00", "22:00"),
        [*BASIC, "ebike_charging", "ebike_parking"],
        "0755-82881234",
    ),
    (
        "福田区总工会",
        "福田区总工会户外劳动者服务站（莲花山）",
        "深圳市福田区红荔路 6030 号",
        22.5528,
        114.0557,
        _daily("06:00", "22:00"),
        ["water", "rest", "toilet", "first_aid"],
        "0755-82910000",
    ),
    (
        "深圳市快递行业工会联合会",
        "快递员暖蜂驿站（车公庙）",
        "深圳市福田区深南大道 7008 号",
        22.5359,
        114.0237,
        _daily("20:00", "08:00"),
        ["water", "rest", "charging", "microwave", "ebike_charging"],
        "0755-83500000",
    ),
    (
        "深圳市总工会",
        "深圳市总工会职工服务中心驿站",
        "深圳市福田区上步中路 1011 号",
        22.5446,
        114.0741,
        _daily("09:00", "18:00"),
        [*BASIC, "air_conditioning", "wifi"],
        "0755-82105555",
    ),
    (
        "福田区总工会",
        "福田口岸爱心驿站",
        "深圳市福田区福强路 3068 号",
        22.5168,
        114.0692,
        ALWAYS,
        ["water", "rest", "charging", "toilet"],
        "0755-83120000",
    ),
]


async def _create_tree(node: DemoOrg, parent: Org | None, by_name: dict[str, Org]) -> None:
    org = await create_org(
        name=node.name,
        org_type=node.org_type,
        region_code=node.region_code,
        parent=parent,
        accepts_members=node.accepts_members,
    )
    by_name[node.name] = org
    for child in node.children:
        await _create_tree(child, org, by_name)


async def load_demo(password: str) -> bool:
    """Load the demo tree and accounts; does nothing (returns False) when orgs already exist."""
    if await Org.exists():
        return False
    by_name: dict[str, Org] = {}
    await _create_tree(DEMO_TREE, None, by_name)
    for staff in DEMO_STAFF:
        if not await StaffAccount.exists(username=staff.username):
            await create_staff(
                username=staff.username,
                display_name=staff.display_name,
                password=password,
                role=staff.role,
                org=by_name[staff.org_name],
                must_change_password=False,
                actor=SYSTEM_ACTOR,
            )
    everything = StaffScope(org_id=by_name[DEMO_TREE.name].id, sees_everything=True)
    for org_name, name, address, lat, lng, hours, amenities, phone in DEMO_STATIONS:
        await create_station(
            everything,
            StationInput(name, by_name[org_name].id, address, lat, lng, hours, amenities, phone),
            SYSTEM_ACTOR,
        )
    return True
