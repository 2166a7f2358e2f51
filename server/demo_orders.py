"""The 高明 story in the demo (DOMAIN.md §1), carried through the same domain functions the API
calls: 广东坚派新材料有限公司 orders help before a customer's factory audit, the union offers the
order to 张国明, he visits the lab, workshop and warehouse and delivers 312 scored rectification
items in four areas, the enterprise works them and passes the audit, rates the service, and the
union records his appointment as 首席质量官 and the 2025-03-10 training. A second order waits
for matching, so that a newcomer can try the candidates panel.

The steps happen now (the kernel stamps each with the clock), while the engagement and the
training keep the story's own dates.
"""

from __future__ import annotations

from datetime import date, timedelta

from models.accounts import StaffAccount, User
from models.audit import Actor
from models.engagements.actions import add_training, create_engagement
from models.enterprises.tables import Enterprise
from models.experts.tables import Expert
from models.scope import StaffScope
from models.service_orders import actions as orders
from models.service_orders.report.items import replace_items, report_items, track_item
from models.service_orders.tables import ItemStatus, ReportArea
from server.clock import now

ENTERPRISE = "广东坚派新材料有限公司"
CONTACT_OPENID = "sandbox-zhang-yuying"
EXPERT_OPENID = "sandbox-zhang-guoming"
CASEWORKER = "gaoming"

# What the expert found, by area: (finding, guidance, owning department).
FINDINGS: dict[ReportArea, tuple[tuple[str, str, str], ...]] = {
    ReportArea.QUALITY_MANAGEMENT: (
        ("来料检验记录不完整", "按批次建立来料检验台账，签字可追溯", "品检部"),
        ("不合格品处置流程未闭环", "明确评审、隔离、处置和纠正措施的责任人与时限", "品检部"),
        ("质量目标未分解到部门", "将年度质量目标分解到部门并按月统计", "综合部"),
        ("内审计划未按期执行", "制定年度内审计划，按季度实施并跟踪整改", "综合部"),
        ("计量器具校准过期", "建立计量器具台账，到期前送检", "品检部"),
        ("客户投诉未做原因分析", "用 8D 方法分析每一起客户投诉", "销售部"),
    ),
    ReportArea.RD_PROCESS: (
        ("关键工序参数未固化", "固化核心工艺参数，写入标准作业指导书", "研发部"),
        ("配方变更无评审记录", "建立配方变更评审与验证流程", "研发部"),
        ("实验数据未统计分析", "用 SPC 控制图分析关键性能数据", "研发部"),
        ("新品试产无转产评审", "试产结束后组织转产评审，形成记录", "研发部"),
        ("涂层附着力测试方法不统一", "统一测试标准与判定准则", "品检部"),
    ),
    ReportArea.PRODUCTION: (
        ("作业指导书未放置在工位", "在每个工位张贴现行有效的作业指导书", "生产部"),
        ("设备点检表填写不规范", "按点检标准逐项填写并由班组长确认", "生产部"),
        ("首件检验未执行", "每班开机和换型后执行首件检验", "生产部"),
        ("物料标识不清", "按状态标识待检、合格、不合格物料", "生产部"),
        ("仓库先进先出未落实", "按批次和日期摆放，出库核对批号", "生产部"),
        ("批次追溯链条断点", "打通原料批号到成品批号的追溯记录", "生产部"),
    ),
    ReportArea.BUSINESS_MANAGEMENT: (
        ("岗位职责说明书缺失", "为关键岗位编写职责说明书", "综合部"),
        ("培训记录不完整", "建立员工培训档案，记录培训与考核结果", "综合部"),
        ("供应商评价未定期开展", "每半年评价一次供应商并分级管理", "销售部"),
        ("合同评审未覆盖技术要求", "合同评审时由研发与品检会签技术条款", "销售部"),
    ),
}
ITEMS = 312


def story_items() -> list[dict[str, object]]:
    """312 items cycling through the findings, each scored out of 10 today with a target."""
    rows = [(area, finding) for area, findings in FINDINGS.items() for finding in findings]
    items = []
    for n in range(ITEMS):
        area, (title, guidance, department) = rows[n % len(rows)]
        score = 3 + (n * 7) % 5
        items.append(
            {
                "area": area.value,
                "title": f"{title}（第{n // len(rows) + 1}处）",
                "score": score,
                "max_score": 10,
                "target_score": min(10, score + 3),
                "guidance": guidance,
                "department": department,
            }
        )
    return items


async def load_order_story() -> None:
    enterprise = await Enterprise.get(name=ENTERPRISE)
    contact_user = await User.get(openid=CONTACT_OPENID)
    expert = await Expert.get(user__openid=EXPERT_OPENID)
    staff = await StaffAccount.get(username=CASEWORKER)
    scope = StaffScope.of(staff)
    contact = Actor("user", contact_user.id, contact_user.openid)
    expert_actor = Actor("user", expert.user_id, EXPERT_OPENID)
    caseworker = Actor("staff", staff.id, staff.username)
    today = now().date()

    order = await orders.place_order(
        contact_user.id,
        enterprise_id=enterprise.id,
        category="factory_audit",
        title="重要客户验厂前的质量体系辅导",
        description="重要客户半个月后来验厂，质量认证是短板，请工会派懂验厂和质量体系的专家指导。",
        deadline_on=today + timedelta(days=15),
        industries=["new_materials"],
        skills=["factory_audit", "quality_system"],
        actor=contact,
    )
    await orders.assign_expert(scope, order.id, expert.id, caseworker, offer_hours=48)
    await orders.accept(expert, order.id, expert_actor)
    await orders.record_visit(
        expert,
        order.id,
        visited_at=now(),
        places=["lab", "workshop", "warehouse"],
        summary="现场调研、分析数据，找出关键过程控制点，编写标准作业指导书，固化核心工艺参数，讲解 PDCA 循环。",
        actor=expert_actor,
    )
    await replace_items(expert.user_id, order.id, story_items())
    await orders.deliver(expert, order.id, expert_actor)
    # The departments work the items: most are done or under way by the audit.
    for n, item in enumerate(await report_items(order.id)):
        if n % 3 != 2:
            status = ItemStatus.DONE if n % 3 == 0 else ItemStatus.IN_PROGRESS
            await track_item(
                contact_user.id, order.id, item.id, status=status, current_score=item.target_score, at=now()
            )
    await orders.confirm(
        contact_user.id, order.id, "客户验厂一次通过", "一周后通过重要客户验厂，订单随之而来。", contact
    )
    await orders.rate_order(
        contact_user.id, order.id, 5, "专家周末到厂，两天给出三百多条整改意见，验厂一次通过。", contact
    )
    engagement = await create_engagement(
        scope,
        enterprise_id=enterprise.id,
        expert_id=expert.id,
        role="首席质量官",
        starts_on=date(2024, 4, 30),
        ends_on=None,
        order_id=order.id,
        actor=caseworker,
    )
    await add_training(
        scope, engagement.id, topic="精益生产与质量追溯培训", held_on=date(2025, 3, 10), attendees=46, actor=caseworker
    )
    await orders.place_order(
        contact_user.id,
        enterprise_id=enterprise.id,
        category="lean_production",
        title="涂层车间精益生产改善",
        description="希望专家帮助梳理涂层车间的浪费，缩短换型时间。",
        deadline_on=today + timedelta(days=60),
        industries=["new_materials", "coatings"],
        skills=["lean", "standard_work"],
        actor=contact,
    )
