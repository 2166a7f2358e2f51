"""Warm services for caseworkers: the queue of their subtree, each request's handling, and the
unions' SLA policies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.warm_requests.shapes import RequestDetail, RequestPage, request_detail, requests_out
from models.kernel.calendar import CalendarKind
from models.kernel.permissions import Permission
from models.warm_requests import actions
from models.warm_requests.catalogue import REQUEST_TYPES
from models.warm_requests.queries import queue_page
from models.warm_requests.sla import effective_policies, set_policy
from models.warm_requests.tables import RequestStatus, WarmRequest
from server.auth.guards import staff_required
from server.clock import now
from server.http import DbId, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_warm_requests", url_prefix="/api/v1/admin")

RequestTypeCode = Literal[tuple(REQUEST_TYPES)]  # type: ignore[valid-type]


class QueueQuery(PageQuery):
    status: RequestStatus | None = None
    assignee: Literal["me", "none"] | None = None
    sla: Literal["on_track", "at_risk", "breached", "paused"] | None = None
    type: RequestTypeCode | None = None


class AssignIn(Shape):
    staff_id: DbId | None = Field(None, description="不填则分派给自己")
    round_robin: bool = Field(False, description="按本工会工作人员轮流分派")


class ContentIn(Shape):
    content: str = Field(min_length=1, max_length=2000)


class ResolveIn(Shape):
    resolution: str = Field(min_length=1, max_length=2000)


class TransferIn(Shape):
    org_id: DbId


class ReasonIn(Shape):
    reason: str = Field(min_length=1, max_length=500)


class PolicyQuery(Shape):
    org_id: DbId | None = Field(None, description="不填则为本人所在工会")


class PolicyIn(Shape):
    org_id: DbId
    request_type: RequestTypeCode
    calendar: CalendarKind
    first_response_minutes: int = Field(ge=1, le=525_600)
    resolution_minutes: int = Field(ge=1, le=525_600)


class PolicyOut(Shape):
    request_type: str
    calendar: CalendarKind
    first_response_minutes: int
    resolution_minutes: int
    source_org_id: int | None = Field(description="规定该时限的工会；null 为求助类型的默认时限")


class PolicyPage(Shape):
    items: list[PolicyOut]
    total: int


async def _detail(request: Request, request_id: int) -> HTTPResponse:
    found = await request.ctx.scope.get(WarmRequest.all(), id=request_id)
    return respond(await request_detail(found, now()))


@bp.get("/warm-requests")
@documented("暖心服务求助队列（本级及下级）", tag="admin-warm", query=QueueQuery, response=RequestPage, secured="staff")
@staff_required(Permission.WARM_REQUESTS_READ)
async def list_requests(request: Request) -> HTTPResponse:
    chosen = parse_query(request, QueueQuery)
    items, total = await queue_page(
        request.ctx.scope,
        request.ctx.staff,
        at=now(),
        offset=chosen.offset,
        limit=chosen.page_size,
        status=chosen.status,
        assignee=chosen.assignee,
        sla_state=chosen.sla,
        request_type=chosen.type,
    )
    return respond(RequestPage(items=await requests_out(items, now()), total=total))


@bp.get("/warm-requests/<request_id:int>")
@documented("求助详情：信息项、往来消息、办理记录、时限", tag="admin-warm", response=RequestDetail, secured="staff")
@staff_required(Permission.WARM_REQUESTS_READ)
async def get_request(request: Request, request_id: int) -> HTTPResponse:
    return await _detail(request, request_id)


@bp.post("/warm-requests/<request_id:int>/assign")
@documented(
    "分派：给同事、给自己（不填 staff_id）或轮流分派",
    tag="admin-warm",
    body=AssignIn,
    response=RequestDetail,
    secured="staff",
)
@staff_required(Permission.WARM_REQUESTS_HANDLE)
async def assign(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, AssignIn)
    staff_id = body.staff_id if body.staff_id is not None else request.ctx.staff.id
    await actions.assign(request.ctx.scope, request_id, staff_id, request.ctx.actor, rotate=body.round_robin)
    return await _detail(request, request_id)


@bp.post("/warm-requests/<request_id:int>/reply")
@documented("回复求助人（首次回复即为响应）", tag="admin-warm", body=ContentIn, response=RequestDetail, secured="staff")
@staff_required(Permission.WARM_REQUESTS_HANDLE)
async def reply(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, ContentIn)
    await actions.reply(request.ctx.scope, request_id, body.content, request.ctx.actor)
    return await _detail(request, request_id)


@bp.post("/warm-requests/<request_id:int>/request-info")
@documented(
    "请求助人补充信息（办结计时暂停）", tag="admin-warm", body=ContentIn, response=RequestDetail, secured="staff"
)
@staff_required(Permission.WARM_REQUESTS_HANDLE)
async def request_info(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, ContentIn)
    await actions.request_info(request.ctx.scope, request_id, body.content, request.ctx.actor)
    return await _detail(request, request_id)


@bp.post("/warm-requests/<request_id:int>/resolve")
@documented("办结", tag="admin-warm", body=ResolveIn, response=RequestDetail, secured="staff")
@staff_required(Permission.WARM_REQUESTS_HANDLE)
async def resolve(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, ResolveIn)
    await actions.resolve(request.ctx.scope, request_id, body.resolution, request.ctx.actor)
    return await _detail(request, request_id)


@bp.post("/warm-requests/<request_id:int>/transfer")
@documented(
    "转交本级以下的其他工会，或上级工会", tag="admin-warm", body=TransferIn, response=RequestDetail, secured="staff"
)
@staff_required(Permission.WARM_REQUESTS_HANDLE)
async def transfer(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, TransferIn)
    moved = await actions.transfer(request.ctx.scope, request_id, body.org_id, request.ctx.actor)
    return respond(await request_detail(moved, now()))


@bp.post("/warm-requests/<request_id:int>/escalate")
@documented("上报上级工会", tag="admin-warm", body=ReasonIn, response=RequestDetail, secured="staff")
@staff_required(Permission.WARM_REQUESTS_HANDLE)
async def escalate(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, ReasonIn)
    moved = await actions.escalate(request.ctx.scope, request_id, body.reason, request.ctx.actor)
    return respond(await request_detail(moved, now()))


@bp.get("/sla-policies")
@documented(
    "某工会各类求助的生效时限（最近的上级规定优先）",
    tag="admin-warm",
    query=PolicyQuery,
    response=PolicyPage,
    secured="staff",
)
@staff_required(Permission.WARM_REQUESTS_READ)
async def list_policies(request: Request) -> HTTPResponse:
    chosen = parse_query(request, PolicyQuery)
    found = await effective_policies(request.ctx.scope, chosen.org_id or request.ctx.staff.org_id)
    return respond(PolicyPage(items=[PolicyOut.model_validate(t) for t in found], total=len(found)))


@bp.put("/sla-policies")
@documented("设定本级或下级工会某类求助的时限", tag="admin-warm", body=PolicyIn, response=PolicyOut, secured="staff")
@staff_required(Permission.SLA_POLICIES_MANAGE)
async def put_policy(request: Request) -> HTTPResponse:
    body = parse_body(request, PolicyIn)
    targets = await set_policy(
        request.ctx.scope,
        org_id=body.org_id,
        code=body.request_type,
        calendar=body.calendar,
        first_response_minutes=body.first_response_minutes,
        resolution_minutes=body.resolution_minutes,
        actor=request.ctx.actor,
    )
    return respond(PolicyOut.model_validate(targets))
