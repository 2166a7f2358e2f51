"""Demo data from DOMAIN.md: the Guangdong union tree and staff accounts at several levels.

Loaded by `python -m server load-demo` (and by `make run` when the database is empty). Every
demo account's password is `DEMO_ADMIN_PASSWORD`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.accounts import StaffAccount, StaffRole, User
from models.audit import Actor
from models.orgs import Org, OrgType, create_org
from models.scope import StaffScope
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
        await actions.assign(scope, request.id, staff, actor)
        await actions.reply(scope, request.id, "您好，已收到您的求助，我们正在核实情况。", actor)
        if stage == "waiting_worker":
            await actions.request_info(scope, request.id, "请补充医院的诊断证明和费用清单照片。", actor)
        elif stage == "resolved":
            await actions.resolve(scope, request.id, "已安排心理咨询师电话疏导一次，并告知 12351 职工服务热线。", actor)
