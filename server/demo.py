"""Demo data from DOMAIN.md: the Guangdong union tree, staff accounts at several levels, help
requests, workers' demands from riders and couriers of several platforms, rest stations
around 中山 and 深圳, and the enterprises and 劳模工匠 of the 高明 story.

Loaded by `python -m server load-demo` (and by `make run` when the database is empty). Every
demo account's password is `DEMO_ADMIN_PASSWORD`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from models.accounts import StaffAccount, StaffRole, User
from models.appeals import actions as appeals
from models.audit import Actor
from models.enterprises import actions as enterprises
from models.experts import actions as experts
from models.orgs import Org, OrgType, create_org
from models.scope import StaffScope
from models.stations.actions import StationInput, create_station
from models.unions import reasons
from models.unions.service_area import Area, set_service
from models.unions.staff import create_staff
from models.warm_requests import actions
from server.clock import now
from server.demo_orders import load_order_story


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


# Preset reasons: the province's lists serve every union; 中山 keeps its own reject list, so the
# demo shows a city's list replacing the province's.
DEMO_REASONS = (
    (
        "广东省总工会",
        reasons.ReasonKind.REJECT,
        (
            "申请人已是其他工会会员，请先办理转会",
            "所选工会不接收该职业或平台的会员，请选择所在地的新就业形态工会",
            "身份信息与证件不一致，请核对后重新申请",
        ),
    ),
    (
        "广东省总工会",
        reasons.ReasonKind.RETURN,
        (
            "请补充从业证明（平台接单截图或劳动合同）",
            "请补充现居住地址或工作地点",
            "请核对并补充联系电话",
        ),
    ),
    (
        "广东省总工会",
        reasons.ReasonKind.OTHER,
        ("超出本级工会办理权限，请上级工会协调", "企业已撤回需求", "专家已停用"),
    ),
    (
        "中山市总工会",
        reasons.ReasonKind.REJECT,
        (
            "申请人已是其他工会会员，请先办理转会",
            "请向户籍或工作所在地的镇街工会申请",
            "身份信息与证件不一致，请核对后重新申请",
        ),
    ),
)


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
    await _demo_enterprises_and_experts(by_name)
    for org_name, area, platforms in DEMO_SERVICE:
        await set_service(everything, by_name[org_name].id, area, platforms, SYSTEM_ACTOR)
    for org_name, kind, texts in DEMO_REASONS:
        for text in texts:
            await reasons.add(everything, by_name[org_name].id, kind, text, SYSTEM_ACTOR)
    await load_order_story()
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


# (worker openid, enterprise, credit code, industry, union, address, contact, phone, verified)
DEMO_ENTERPRISES = (
    (
        "sandbox-zhang-yuying",
        "广东坚派新材料有限公司",
        "91440608MA4UJP5K3X",
        "new_materials",
        "高明区总工会",
        "佛山市高明区荷城街道新材料产业园",
        "张余英",
        "13929900001",
        True,
    ),
    (
        "sandbox-he-jianhua",
        "佛山市华彩涂料有限公司",
        "91440606MA51XQ2R85",
        "coatings",
        "佛山市总工会",
        "佛山市顺德区容桂街道华彩路 8 号",
        "何建华",
        "13929900002",
        False,
    ),
)

ZHANG_GUOMING_BIO = (
    "新材料行业从业 29 年，熟悉世界 500 强企业的验厂要求和质量体系建设。拥有美国发明专利 3 项、"
    "中国发明专利 12 项及多项实用新型专利，参与制定国家标准 2 项、团体标准 10 项。"
    "擅长深入实验室、车间和仓库现场调研、分析数据，找准关键工序控制点，指导编写标准作业指导书、"
    "固化核心工艺参数，传授 PDCA 循环，带动企业质量管理、研发工艺、生产制造和经营管理全面提升。"
)

# (staff who keeps them, openid bound or None, input without org/regions, union, regions, employer)
DEMO_EXPERTS = (
    (
        "gaoming",
        "sandbox-zhang-guoming",
        experts.ExpertInput(
            name="张国明",
            org_id=0,
            titles=["south_guangdong_craftsman", "foshan_engineer"],
            industries=["new_materials", "coatings"],
            skills=[
                "factory_audit",
                "quality_system",
                "process_control",
                "standard_work",
                "pdca",
                "lean",
                "traceability",
            ],
            years=29,
            patents_us_invention=3,
            patents_cn_invention=12,
            patents_utility_model=5,
            standards_national=2,
            standards_group=10,
            max_active_orders=3,
            bio=ZHANG_GUOMING_BIO,
        ),
        "高明区总工会",
        ("高明区总工会", "佛山市总工会"),
        None,
    ),
    (
        "gaoming",
        None,
        experts.ExpertInput(
            name="李秀梅",
            org_id=0,
            titles=["provincial_model_worker"],
            industries=["chemicals", "coatings"],
            skills=["process_control", "quality_system", "work_safety"],
            years=18,
            patents_cn_invention=3,
            patents_utility_model=6,
            standards_group=2,
            max_active_orders=2,
            bio="化工涂料企业生产技术骨干，长期负责工艺控制与安全生产。",
        ),
        "高明区总工会",
        ("高明区总工会",),
        None,
    ),
    (
        "admin",
        "sandbox-chen-zhiqiang",
        experts.ExpertInput(
            name="陈志强",
            org_id=0,
            titles=["national_craftsman", "may_day_medal"],
            industries=["machinery", "automotive"],
            skills=["cnc", "mould_making", "equipment_maintenance", "automation"],
            years=25,
            patents_cn_invention=5,
            patents_utility_model=11,
            standards_national=1,
            standards_group=3,
            max_active_orders=1,
            bio="数控加工与模具制造能手，带领团队攻克多项精密加工难题。工作繁忙，每次只承接一单。",
        ),
        "佛山市总工会",
        ("佛山市总工会",),
        None,
    ),
    (
        "admin",
        None,
        experts.ExpertInput(
            name="吴建新",
            org_id=0,
            titles=["city_model_worker"],
            industries=["coatings", "new_materials"],
            skills=["quality_system", "process_control", "rd_management"],
            years=16,
            patents_cn_invention=2,
            patents_utility_model=4,
            standards_group=1,
            max_active_orders=2,
            bio="佛山市华彩涂料有限公司研发部经理，熟悉涂料配方与质量检测。",
        ),
        "佛山市总工会",
        ("佛山市总工会",),
        "佛山市华彩涂料有限公司",
    ),
    (
        "shenzhen",
        None,
        experts.ExpertInput(
            name="刘伟东",
            org_id=0,
            titles=["chief_technician"],
            industries=["electronics"],
            skills=["lean", "standard_work", "automation", "training"],
            years=12,
            patents_utility_model=2,
            max_active_orders=2,
            bio="电子制造企业首席技师，擅长精益产线改善和一线员工技能培训。",
        ),
        "深圳市总工会",
        ("深圳市总工会",),
        None,
    ),
)


async def _demo_enterprises_and_experts(by_name: dict[str, Org]) -> None:
    """The 高明 story's enterprise (verified, with 张余英 as its contact), a second enterprise
    awaiting verification, and a varied roster: 张国明 first among them. 张国明 and 陈志强 have
    bound WeChat accounts (log in with `dev:zhang-guoming`, `dev:chen-zhiqiang`). Their orders,
    report and engagement are `server/demo_orders.py`."""
    at = now()
    enterprise_ids: dict[str, int] = {}
    for openid, name, code, industry, union, address, contact, phone, verified in DEMO_ENTERPRISES:
        user = await User.create(openid=openid)
        data = enterprises.EnterpriseInput(name, code, industry, by_name[union].id, address, contact, phone)
        enterprise = await enterprises.register(user.id, data)
        enterprise_ids[name] = enterprise.id
        if verified:
            staff = await StaffAccount.get(username="gaoming")
            actor = Actor("staff", staff.id, staff.username)
            await enterprises.verify(StaffScope.of(staff), enterprise.id, actor, at)
    for keeper, openid, data, union, regions, employer in DEMO_EXPERTS:
        staff = await StaffAccount.get(username=keeper)
        placed = replace(
            data,
            org_id=by_name[union].id,
            regions=[by_name[region].id for region in regions],
            employer_enterprise_id=enterprise_ids[employer] if employer else None,
        )
        _, code = await experts.create_expert(
            StaffScope.of(staff), placed, Actor("staff", staff.id, staff.username), at
        )
        if openid:
            await experts.claim((await User.create(openid=openid)).id, code, at)
