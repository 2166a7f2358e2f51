"""Matching that explains itself: the experts who may take an order, best first, each with the
points behind their rank and the warnings a caseworker must weigh.

`rank` is pure (the facts and the instant in, candidates out) so the rules can be tested
without a database; `candidates` gathers the facts in a fixed number of queries whatever the
roster's size: the experts' columns with `values()`, one aggregate for current loads, one for
past ratings, one each for engagements and open orders at competitors, one for earlier refusals.

Points (all integers):
- industry fit: 30 when the expert works in an industry the order needs (else the enterprise's);
- skill fit: 15 per needed skill the expert has;
- years: one point per two years, at most 15;
- patents: US invention 3, Chinese invention 2, utility model 1 each, at most 15;
- standards: national 3, group 1 each, at most 10;
- region: 10 when the expert serves the order's union or a union above it;
- load: 5 per free place, at most 10;
- past ratings: (average − 3) × 5, from −10 to +10.
Experts with no free place are listed last with `full` set (they cannot be offered the order,
but the caseworker sees who would fit once they are free). Conflicts of interest do not change
the score: they are warnings, shown beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Sum

from models.catalogue import INDUSTRIES, SKILLS
from models.engagements.tables import Engagement
from models.enterprises.tables import Enterprise
from models.experts.tables import Expert
from models.kernel.assignment import LIVE, AssigneeKind, Assignment, AssignmentState
from models.kernel.ratings import Rating
from models.orgs import OrgClosure, ancestors
from models.scope import StaffScope
from models.service_orders.machine import ACTIVE_LOAD
from models.service_orders.tables import CASE_TYPE, OrderStatus, ServiceOrder
from server.clock import SHANGHAI

INDUSTRY_POINTS = 30
SKILL_POINTS = 15
YEARS_CAP = 15
PATENT_POINTS = {"us": 3, "cn": 2, "utility": 1}
PATENTS_CAP = 15
STANDARD_POINTS = {"national": 3, "group": 1}
STANDARDS_CAP = 10
REGION_POINTS = 10
FREE_PLACE_POINTS, LOAD_CAP = 5, 10
RATING_POINTS_PER_STAR = 5
# An order a competitor placed that the expert is still working on.
BUSY_AT_COMPETITOR = frozenset({OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.DELIVERED})

EXPERT_COLUMNS = (
    "id",
    "name",
    "org_id",
    "titles",
    "industries",
    "skills",
    "regions",
    "years",
    "patents_us_invention",
    "patents_cn_invention",
    "patents_utility_model",
    "standards_national",
    "standards_group",
    "max_active_orders",
    "employer_enterprise_id",
    "user_id",
)


@dataclass(frozen=True)
class OrderFacts:
    order_id: int
    enterprise_id: int
    industries: Sequence[str]  # wanted: the order's needs, else the enterprise's own industry
    skills: Sequence[str]
    region_chain: Sequence[tuple[int, str]]  # the order's union and the unions above it, nearest first


@dataclass(frozen=True)
class Tie:
    """An expert's link to another enterprise in the ordering enterprise's industry."""

    expert_id: int
    enterprise_name: str
    kind: str  # "engagement" or "order"
    ends_on: date | None = None  # engagements only


class Reason(NamedTuple):  # a tuple: thousands are made per call, and a frozen dataclass is slower to build
    code: str
    label: str
    points: int


class Warning(NamedTuple):
    code: str
    label: str


@dataclass(frozen=True)
class Candidate:
    expert_id: int
    name: str
    titles: list[str]
    score: int
    reasons: list[Reason]
    warnings: list[Warning]
    active_orders: int
    max_active_orders: int
    rating: float | None
    rating_count: int
    full: bool
    bound: bool  # the expert has bound their WeChat account and can answer an offer


def _counted(parts: Iterable[tuple[str, int]]) -> str:
    return "、".join(f"{name} {count} 项" for name, count in parts if count)


def score_expert(
    order: OrderFacts,
    expert: Mapping[str, object],
    *,
    load: int,
    rating: tuple[float, int] | None,
) -> list[Reason]:
    """The reasons (with their points) one expert earns for one order."""
    reasons: list[Reason] = []
    industries = [code for code in order.industries if code in set(expert["industries"])]  # type: ignore[call-overload]
    if industries:
        labels = "、".join(INDUSTRIES.get(code, code) for code in industries)
        reasons.append(Reason("industry", f"行业匹配：{labels}", INDUSTRY_POINTS))
    has = set(expert["skills"])  # type: ignore[call-overload]
    for code in order.skills:
        if code in has:
            reasons.append(Reason("skill", f"技能匹配：{SKILLS.get(code, code)}", SKILL_POINTS))
    years = int(expert["years"])  # type: ignore[call-overload]
    if years:
        reasons.append(Reason("years", f"从业 {years} 年", min(years // 2, YEARS_CAP)))
    us, cn, utility = (
        int(expert[k]) for k in ("patents_us_invention", "patents_cn_invention", "patents_utility_model")
    )  # type: ignore[call-overload]
    patent_points = us * PATENT_POINTS["us"] + cn * PATENT_POINTS["cn"] + utility * PATENT_POINTS["utility"]
    if patent_points:
        label = _counted((("美国发明专利", us), ("中国发明专利", cn), ("实用新型专利", utility)))
        reasons.append(Reason("patents", f"专利：{label}", min(patent_points, PATENTS_CAP)))
    national, group = int(expert["standards_national"]), int(expert["standards_group"])  # type: ignore[call-overload]
    standard_points = national * STANDARD_POINTS["national"] + group * STANDARD_POINTS["group"]
    if standard_points:
        label = _counted((("国家标准", national), ("团体标准", group)))
        reasons.append(Reason("standards", f"参与制定标准：{label}", min(standard_points, STANDARDS_CAP)))
    served = set(expert["regions"])  # type: ignore[call-overload]
    region = next((name for org_id, name in order.region_chain if org_id in served), None)
    if region is not None:
        reasons.append(Reason("region", f"服务区域：{region}", REGION_POINTS))
    free = max(int(expert["max_active_orders"]) - load, 0)  # type: ignore[call-overload]
    reasons.append(Reason("load", f"在办 {load} 单，还可接 {free} 单", min(free * FREE_PLACE_POINTS, LOAD_CAP)))
    if rating is not None:
        average, count = rating
        reasons.append(
            Reason("rating", f"历史评分 {average:.1f}（{count} 次）", round((average - 3) * RATING_POINTS_PER_STAR))
        )
    return reasons


def warnings_for(
    order: OrderFacts, expert: Mapping[str, object], ties: Sequence[Tie], declined: bool, today: date
) -> list[Warning]:
    found = []
    if expert["employer_enterprise_id"] == order.enterprise_id:
        found.append(Warning("employed_by_enterprise", "利益冲突：该专家受雇于下单企业"))
    for tie in ties:
        if tie.kind == "engagement" and (tie.ends_on is None or tie.ends_on >= today):
            found.append(Warning("engaged_by_competitor", f"利益冲突：正受聘于同行业企业{tie.enterprise_name}"))
        elif tie.kind == "order":
            found.append(Warning("serving_competitor", f"利益冲突：正在为同行业企业{tie.enterprise_name}服务"))
    if declined:
        found.append(Warning("declined_before", "该专家曾婉拒或未答复本订单"))
    if expert["user_id"] is None:
        found.append(Warning("not_bound", "该专家尚未绑定微信，无法接单"))
    return found


def rank(
    order: OrderFacts,
    experts: Sequence[Mapping[str, object]],
    *,
    loads: Mapping[int, int],
    ratings: Mapping[int, tuple[float, int]],
    ties: Sequence[Tie],
    declined: frozenset[int],
    at: datetime,
) -> list[Candidate]:
    """Candidates best first: those with a free place by score, then the full ones by score."""
    today = at.astimezone(SHANGHAI).date()
    ties_of: dict[int, list[Tie]] = {}
    for tie in ties:
        ties_of.setdefault(tie.expert_id, []).append(tie)
    found = []
    for expert in experts:
        expert_id = int(expert["id"])  # type: ignore[call-overload]
        load = loads.get(expert_id, 0)
        reasons = score_expert(order, expert, load=load, rating=ratings.get(expert_id))
        average, count = ratings.get(expert_id, (None, 0))
        found.append(
            Candidate(
                expert_id=expert_id,
                name=str(expert["name"]),
                titles=list(expert["titles"]),  # type: ignore[call-overload]
                score=sum(reason.points for reason in reasons),
                reasons=reasons,
                warnings=warnings_for(order, expert, ties_of.get(expert_id, []), expert_id in declined, today),
                active_orders=load,
                max_active_orders=int(expert["max_active_orders"]),  # type: ignore[call-overload]
                rating=average,
                rating_count=count,
                full=load >= int(expert["max_active_orders"]),  # type: ignore[call-overload]
                bound=expert["user_id"] is not None,
            )
        )
    found.sort(key=lambda c: (c.full, -c.score, c.expert_id))
    return found


# --- gathering the facts ----------------------------------------------------------------------


async def order_facts(order: ServiceOrder) -> OrderFacts:
    enterprise = await Enterprise.get(id=order.enterprise_id)
    chain = [(org.id, org.name) for org in reversed(await ancestors(order.org_id))]
    return OrderFacts(
        order_id=order.id,
        enterprise_id=order.enterprise_id,
        industries=list(order.needs.get("industries") or [enterprise.industry]),
        skills=list(order.needs.get("skills") or []),
        region_chain=chain,
    )


async def eligible_experts(scope: StaffScope, order: OrderFacts) -> list[dict[str, object]]:
    """Active experts on a roster of the caseworker's subtree, or serving the order's union or a
    union above it (regions are JSON lists, so that part is decided here rather than in SQL)."""
    rows = await Expert.filter(active=True).order_by("id").values(*EXPERT_COLUMNS)
    if scope.sees_everything:
        return rows
    subtree = set(await OrgClosure.filter(ancestor_id=scope.org_id).values_list("descendant_id", flat=True))
    region = {org_id for org_id, _ in order.region_chain}
    return [row for row in rows if row["org_id"] in subtree or region.intersection(row["regions"])]


async def active_loads(expert_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Orders offered to or held by each expert and not yet delivered: one aggregate query."""
    in_hand = ServiceOrder.filter(status__in=list(ACTIVE_LOAD)).values("id")
    query = Assignment.filter(
        case_type=CASE_TYPE, assignee_kind=AssigneeKind.EXPERT, state__in=list(LIVE), case_id__in=Subquery(in_hand)
    )
    if expert_ids is not None:
        query = query.filter(assignee_id__in=list(expert_ids))
    rows = await query.annotate(count=Count("id")).group_by("assignee_id").values_list("assignee_id", "count")
    return {expert_id: count for expert_id, count in rows}


async def past_ratings() -> dict[int, tuple[float, int]]:
    """Each expert's average service-order rating and its count: one aggregate query."""
    rows = (
        await Rating.filter(case_type=CASE_TYPE, served_kind="expert")
        .annotate(count=Count("id"), total=Sum("score"))
        .group_by("served_id")
        .values_list("served_id", "count", "total")
    )
    return {served_id: (round(total / count, 2), count) for served_id, count, total in rows if count}


async def competitor_ties(order: ServiceOrder) -> list[Tie]:
    """Engagements (current or ended, `rank` decides on the date) and orders in hand of every
    expert at other enterprises in the ordering enterprise's industry."""
    industry = (await Enterprise.get(id=order.enterprise_id)).industry
    rivals = Enterprise.filter(industry=industry).exclude(id=order.enterprise_id)
    engaged = await Engagement.filter(enterprise_id__in=Subquery(rivals.values("id"))).values_list(
        "expert_id", "enterprise__name", "ends_on"
    )
    serving = await ServiceOrder.filter(
        Q(enterprise_id__in=Subquery(rivals.values("id"))),
        status__in=list(BUSY_AT_COMPETITOR),
        expert_id__isnull=False,
    ).values_list("expert_id", "enterprise__name")
    return [Tie(e, name, "engagement", ends_on) for e, name, ends_on in engaged] + [
        Tie(e, name, "order") for e, name in serving
    ]


async def refused_by(order_id: int) -> frozenset[int]:
    rows = await Assignment.filter(
        case_type=CASE_TYPE,
        case_id=order_id,
        assignee_kind=AssigneeKind.EXPERT,
        state__in=[AssignmentState.DECLINED, AssignmentState.EXPIRED],
    ).values_list("assignee_id", flat=True)
    return frozenset(rows)


async def candidates(scope: StaffScope, order: ServiceOrder, at: datetime) -> list[Candidate]:
    facts = await order_facts(order)
    return rank(
        facts,
        await eligible_experts(scope, facts),
        loads=await active_loads(),
        ratings=await past_ratings(),
        ties=await competitor_ties(order),
        declined=await refused_by(order.id),
        at=at,
    )


async def may_serve(scope: StaffScope, expert: Expert, order: OrderFacts) -> bool:
    """The one-expert form of `eligible_experts`, for an assignment."""
    if not expert.active:
        return False
    region = {org_id for org_id, _ in order.region_chain}
    return bool(region.intersection(expert.regions)) or await scope.contains(expert.org_id)
