"""Members, transfers and withdrawals for caseworkers, and the figures of their subtree."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.kernel.permissions import Permission
from models.kernel.ratings import rating_figures, satisfaction
from models.membership.actions import decide_change
from models.membership.queries import MemberFilter, member_list, subtree_figures
from models.membership.tables import (
    MEMBERSHIP_STATUS_LABELS,
    ChangeKind,
    ChangeStatus,
    Membership,
    MembershipChange,
    MembershipStatus,
)
from models.profiles.identity import mask_phone
from models.profiles.search import person_match
from models.service_orders.queries import figures as service_order_figures
from models.warm_requests.queries import figures as warm_figures
from server.auth.guards import staff_required
from server.clock import now
from server.http import DbId, LocalTime, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_membership", url_prefix="/api/v1/admin")


class MemberQuery(PageQuery):
    status: MembershipStatus | None = MembershipStatus.ACTIVE
    org_id: DbId | None = None
    is_gig_worker: bool | None = None
    occupation: str | None = Field(None, max_length=32)
    platform: str | None = Field(None, max_length=32)
    q: str | None = Field(None, max_length=32, description="姓名、会员号、手机号或身份证号（可只输末 4–6 位）")
    sort: Literal["joined_at", "-joined_at", "member_no"] = "-joined_at"


class MemberOut(Shape):
    id: int
    member_no: str
    org_id: int
    real_name: str
    id_number: str
    phone: str
    status: MembershipStatus
    status_label: str
    is_gig_worker: bool
    occupation: str
    platform: str
    joined_at: LocalTime
    ended_at: LocalTime | None


class MemberPage(Shape):
    items: list[MemberOut]
    total: int


class ChangeQuery(PageQuery):
    status: ChangeStatus | None = ChangeStatus.SUBMITTED
    kind: ChangeKind | None = None


class AdminChangeOut(Shape):
    id: int
    kind: ChangeKind
    status: ChangeStatus
    membership_id: int
    target_org_id: int | None
    review_org_id: int
    reason: str
    decision_reason: str
    created_at: LocalTime
    decided_at: LocalTime | None


class ChangePage(Shape):
    items: list[AdminChangeOut]
    total: int


class DecisionIn(Shape):
    reason: str = Field("", max_length=200)


class RejectionIn(Shape):
    reason: str = Field(min_length=1, max_length=200, description="驳回原因，必填")


class Breakdown(Shape):
    code: str
    label: str
    members: int
    gig_members: int


class StatsQuery(Shape):
    org_id: DbId | None = Field(None, description="不填为本人所属组织")


class WarmFigures(Shape):
    by_status: dict[str, int]
    breached: int = Field(description="已超时的未办结求助")


class ServiceOrderFigures(Shape):
    by_status: dict[str, int]


class ServiceSatisfaction(Shape):
    average: float
    count: int


class MonthSatisfaction(Shape):
    month: str = Field(description="YYYY-MM（北京时间）")
    service_kind: str
    average: float
    count: int


class SatisfactionOut(Shape):
    average: float | None
    count: int
    by_service: dict[str, ServiceSatisfaction]
    by_month: list[MonthSatisfaction] = Field(description="最近 12 个月，按月份（新的在前）与服务类别")


class StatsOut(Shape):
    org_id: int
    org_count: int
    member_count: int
    gig_member_count: int
    by_occupation: list[Breakdown]
    by_platform: list[Breakdown]
    warm_requests: WarmFigures
    service_orders: ServiceOrderFigures
    satisfaction: SatisfactionOut


def member_out(member: Membership) -> MemberOut:
    return MemberOut(
        id=member.id,
        member_no=member.member_no,
        org_id=member.org_id,
        real_name=member.real_name,
        id_number=member.id_masked,
        phone=mask_phone(member.phone),
        status=member.status,
        status_label=MEMBERSHIP_STATUS_LABELS[member.status],
        is_gig_worker=member.is_gig_worker,
        occupation=member.occupation,
        platform=member.platform,
        joined_at=member.joined_at,
        ended_at=member.ended_at,
    )


@bp.get("/members")
@documented(
    "会员列表（本级及下级）：筛选、搜索、排序、分页",
    tag="admin-membership",
    query=MemberQuery,
    response=MemberPage,
    secured="staff",
)
@staff_required(Permission.MEMBERS_READ)
async def list_members(request: Request) -> HTTPResponse:
    query = parse_query(request, MemberQuery)
    members, total = await member_list(
        request.ctx.scope,
        MemberFilter(
            query.status,
            query.org_id,
            query.is_gig_worker,
            query.occupation,
            query.platform,
            query.q,
            person_match(query.q, request.app.ctx.cipher) if query.q else None,
        ),
    )
    page = await members.order_by(query.sort, "-id").offset(query.offset).limit(query.page_size)
    return respond(MemberPage(items=[member_out(member) for member in page], total=total))


@bp.get("/membership-changes")
@documented(
    "转会与退会申请（由本级及下级工会审核的）",
    tag="admin-membership",
    query=ChangeQuery,
    response=ChangePage,
    secured="staff",
)
@staff_required(Permission.MEMBERS_READ)
async def list_changes(request: Request) -> HTTPResponse:
    query = parse_query(request, ChangeQuery)
    changes = request.ctx.scope.restrict(MembershipChange.all())
    filters = {"status": query.status, "kind": query.kind}
    changes = changes.filter(**{key: value for key, value in filters.items() if value is not None})
    total = await changes.count()
    page = await changes.order_by("-id").offset(query.offset).limit(query.page_size)
    return respond(ChangePage(items=[AdminChangeOut.model_validate(change) for change in page], total=total))


@bp.post("/membership-changes/<change_id:int>/approve")
@documented("批准转会或退会", tag="admin-membership", body=DecisionIn, response=AdminChangeOut, secured="staff")
@staff_required(Permission.MEMBERSHIP_CHANGES_REVIEW)
async def approve_change(request: Request, change_id: int) -> HTTPResponse:
    body = parse_body(request, DecisionIn)
    change = await decide_change(request.ctx.scope, change_id, True, body.reason, request.ctx.actor)
    return respond(AdminChangeOut.model_validate(change))


@bp.post("/membership-changes/<change_id:int>/reject")
@documented(
    "驳回转会或退会（须填写原因）", tag="admin-membership", body=RejectionIn, response=AdminChangeOut, secured="staff"
)
@staff_required(Permission.MEMBERSHIP_CHANGES_REVIEW)
async def reject_change(request: Request, change_id: int) -> HTTPResponse:
    body = parse_body(request, RejectionIn)
    change = await decide_change(request.ctx.scope, change_id, False, body.reason, request.ctx.actor)
    return respond(AdminChangeOut.model_validate(change))


@bp.get("/stats")
@documented(
    "本级及下级的统计：组织数、会员数、新就业形态会员数（按职业与平台分布），暖心服务求助，企业点单，服务满意度",
    tag="admin-membership",
    query=StatsQuery,
    response=StatsOut,
    secured="staff",
)
@staff_required(Permission.DESK_USE)
async def stats(request: Request) -> HTTPResponse:
    query = parse_query(request, StatsQuery)
    org_id = query.org_id if query.org_id is not None else request.ctx.staff.org_id
    await request.ctx.scope.require(org_id)
    done = await satisfaction(org_id)
    return respond(
        StatsOut(
            org_id=org_id,
            **await subtree_figures(org_id),
            warm_requests=WarmFigures(**await warm_figures(org_id, now())),
            service_orders=ServiceOrderFigures(**await service_order_figures(org_id)),
            satisfaction=SatisfactionOut(
                average=done.average,
                count=done.count,
                by_service=done.by_service,
                by_month=[
                    MonthSatisfaction(month=f.month, service_kind=f.service_kind, average=f.average, count=f.count)
                    for f in await rating_figures(request.ctx.scope, org_id)
                ],
            ),
        )
    )
