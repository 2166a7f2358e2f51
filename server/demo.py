"""Demo data from DOMAIN.md: the Guangdong union tree, staff accounts at several levels, help
requests, workers' demands from riders and couriers of several platforms, and rest stations
around 中山 and 深圳.

Loaded by `python -m server load-demo` (and by `make run` when the database is empty). Every
demo account's password is `DEMO_ADMIN_PASSWORD`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.accounts import StaffAccount, StaffRole, User
from models.appeals import actions as appeals
from models.audit import Actor
from models.orgs import Org, OrgType, create_org
from models.scope import StaffScope
from models.stations.actions import StationInput, create_station
from models.unions.service_area import Area, set_service
from models.unions.staff import create_staff
from models.warm_requests import actions


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


# Whom a union serves beyond its members (warm-service routing): the town and street unions and
# the district around the demo stations, and the industry unions for their platforms.
DEMO_SERVICE = [
    ("东区街道总工会", Area(22.5205, 113.3990, 2_500), []),
    ("火炬开发区总工会", Area(22.5427, 113.4791, 5_000), []),
    ("华强北街道总工会", Area(22.5440, 114.0850, 1_500), []),
    ("福田区总工会", Area(22.5410, 114.0550, 8_000), []),
    ("荷城街道总工会", Area(22.8946, 112.8826, 4_000), []),
    ("中山市新就业形态劳动者工会联合会", None, ["meituan", "eleme", "dada"]),
    ("深圳市快递行业工会联合会", None, ["sf_express", "jd", "cainiao"]),
    ("湛江市货车司机工会", None, ["huolala"]),
]


@dataclass(frozen=True)
class DemoAppeal:
    rider: str  # the demo worker's openid
    org_name: str
    topic: str
    platform: str
    anonymous: bool
    content: str
    reply_by: str = ""  # a demo staff username: that caseworker answers
    reply: str = ""
    take_up: bool = False


DEMO_APPEALS = [
    DemoAppeal(
        "demo-rider-meituan-1",
        "美团中山外卖配送站点工会",
        "delivery_time",
        "meituan",
        True,
        "雨天和高峰期系统给的配送时间太短，超时就扣钱，希望恶劣天气能自动延长配送时限。",
        "zhongshan",
        "已收到，将在下次与平台的协商中提出恶劣天气延时规则。",
        True,
    ),
    DemoAppeal(
        "demo-rider-meituan-2",
        "美团中山外卖配送站点工会",
        "rewards_penalties",
        "meituan",
        True,
        "差评和超时的罚款标准不透明，申诉渠道很难走通，希望公开奖惩规则。",
        "zhongshan",
        "工会已向站点了解申诉流程，将推动公开奖惩细则。",
    ),
    DemoAppeal(
        "demo-rider-meituan-3",
        "中山市新就业形态劳动者工会联合会",
        "order_allocation",
        "meituan",
        False,
        "同一商圈派单不均，新骑手经常一整天接不到好单，希望派单规则公开。",
    ),
    DemoAppeal(
        "demo-rider-eleme-1",
        "中山市新就业形态劳动者工会联合会",
        "commission_rate",
        "eleme",
        True,
        "代理商抽成比例一年涨了两次，到手收入明显减少。",
        "zhongshan",
        "感谢反映，工会正在汇总各站点的抽成情况。",
    ),
    DemoAppeal(
        "demo-rider-eleme-2",
        "东区街道总工会",
        "rest",
        "eleme",
        False,
        "午高峰后想找个地方歇脚充电，附近驿站太少，希望增加休息点。",
    ),
    DemoAppeal(
        "demo-rider-eleme-1",
        "中山市新就业形态劳动者工会联合会",
        "order_price",
        "eleme",
        True,
        "远距离订单单价太低，跑一单不够油费电费。",
    ),
    DemoAppeal(
        "demo-courier-sf-1",
        "顺丰速运深圳福田片区工会",
        "occupational_protection",
        "sf_express",
        False,
        "希望公司为快递员购买职业伤害保障，并说明出险后的理赔流程。",
        "shenzhen",
        "市总工会正在推动职业伤害保障试点，已将您的诉求纳入集体协商议题。",
        True,
    ),
    DemoAppeal(
        "demo-courier-sf-2",
        "深圳市快递行业工会联合会",
        "working_hours",
        "sf_express",
        True,
        "旺季每天工作超过 12 小时，希望合理安排排班和轮休。",
    ),
    DemoAppeal(
        "demo-courier-jd-1",
        "深圳市快递行业工会联合会",
        "social_insurance",
        "jd",
        False,
        "外包站点不给缴社保，想了解怎样维护自己的权益。",
        "shenzhen",
        "请带上劳动合同和工资流水到工会法律援助窗口，我们会协助您。",
    ),
    DemoAppeal(
        "demo-driver-huolala-1",
        "湛江市货车司机工会",
        "order_price",
        "huolala",
        True,
        "平台压价严重，跑长途的运价覆盖不了过路费和油费。",
    ),
]


async def _load_appeals(by_name: dict[str, Org]) -> None:
    for demo in DEMO_APPEALS:
        user, _ = await User.get_or_create(openid=demo.rider)
        appeal = await appeals.submit(
            user,
            topic=demo.topic,
            content=demo.content,
            platform=demo.platform,
            employer="",
            org_id=by_name[demo.org_name].id,
            anonymous=demo.anonymous,
            actor=Actor("user", user.id, user.openid),
        )
        if demo.reply_by:
            staff = await StaffAccount.get(username=demo.reply_by)
            scope, actor = StaffScope.of(staff), Actor("staff", staff.id, staff.username)
            await appeals.reply(scope, appeal.id, demo.reply, actor)
            if demo.take_up:
                await appeals.take_up(scope, appeal.id, actor)


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
    await _demo_warm_requests(by_name)
    await _load_appeals(by_name)
    everything = StaffScope(org_id=by_name[DEMO_TREE.name].id, sees_everything=True)
    for org_name, name, address, lat, lng, hours, amenities, phone in DEMO_STATIONS:
        await create_station(
            everything,
            StationInput(name, by_name[org_name].id, address, lat, lng, hours, amenities, phone),
            SYSTEM_ACTOR,
        )
    for org_name, area, platforms in DEMO_SERVICE:
        await set_service(everything, by_name[org_name].id, area, platforms, SYSTEM_ACTOR)
    return True


DEMO_REQUESTS = (
    # (worker, union, type, description, fields, how far the union got)
    (
        "rider-chen",
        "中山市总工会",
        "legal_aid",
        "站点以“差评”为由扣了我两个月的配送费，申诉没有回音。",
        {"dispute_kind": "penalty", "employer": "某外卖平台中山东区站", "amount_owed": 3200},
        "submitted",
    ),
    (
        "courier-lin",
        "中山市总工会",
        "hardship",
        "爱人住院，家里两个孩子上学，收入不够开支。",
        {"household_size": 4, "monthly_income": 4800, "cause": "家人重病"},
        "in_progress",
    ),
    (
        "driver-huang",
        "中山市总工会",
        "medical",
        "跑车途中腰伤，想申请医疗互助。",
        {"hospital": "中山市人民医院", "cost": 12600},
        "waiting_worker",
    ),
    (
        "rider-zhou",
        "深圳市总工会",
        "counselling",
        "最近总睡不好，想找人聊聊。",
        {"topic": "stress", "preferred_time": "晚上九点后"},
        "resolved",
    ),
)


async def _demo_warm_requests(by_name: dict[str, Org]) -> None:
    """A few help requests at each stage, so the queue and the worker's view have something."""
    for worker, union, code, description, values, stage in DEMO_REQUESTS:
        user = await User.create(openid=f"sandbox-{worker}")
        me = Actor("user", user.id, user.openid)
        request = await actions.submit(user.id, code, description, values, None, by_name[union].id, me)
        if stage == "submitted":
            continue
        staff = await StaffAccount.filter(org_id=by_name[union].id).order_by("id").first()
        assert staff is not None
        scope, actor = StaffScope.of(staff), Actor("staff", staff.id, staff.username)
        await actions.assign(scope, request.id, staff.id, actor)
        await actions.reply(scope, request.id, "您好，已收到您的求助，我们正在核实情况。", actor)
        if stage == "waiting_worker":
            await actions.request_info(scope, request.id, "请补充医院的诊断证明和费用清单照片。", actor)
        elif stage == "resolved":
            await actions.resolve(scope, request.id, "已安排心理咨询师电话疏导一次，并告知 12351 职工服务热线。", actor)
