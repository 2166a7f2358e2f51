"""Warm services for workers: ask for help, follow it, answer the union, rate the result."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.warm_requests.shapes import RequestDetail, RequestPage, request_detail, requests_out
from models.warm_requests import actions
from models.warm_requests.queries import own_page, own_request
from server.auth.guards import worker_required
from server.clock import now
from server.http import DbId, PageQuery, Shape, documented, parse_body, parse_query, respond
from server.idempotency import idempotent

bp = Blueprint("warm_requests", url_prefix="/api/v1/warm-requests")


class Location(Shape):
    lat: float = Field(ge=-90, le=90, description="GCJ-02 纬度")
    lng: float = Field(ge=-180, le=180, description="GCJ-02 经度")


class RequestIn(Shape):
    type: str = Field(max_length=16, description="求助类型，见 /api/v1/catalogue 的 warm_request_types")
    description: str = Field(min_length=1, max_length=2000)
    fields: dict[str, Any] = Field(default_factory=dict, description="该类型的信息项")
    location: Location | None = None
    org_id: DbId | None = Field(None, description="不填则依次按会员关系、所在位置、所在城市的平台工会、所在城市分派")


class ContentIn(Shape):
    content: str = Field(min_length=1, max_length=2000)


class ReasonIn(Shape):
    reason: str = Field(min_length=1, max_length=2000)


class RatingIn(Shape):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=500)


class RatingOut(Shape):
    id: int
    score: int


async def _detail(request: Request, request_id: int) -> HTTPResponse:
    return respond(await request_detail(await own_request(request.ctx.user.id, request_id), now()))


@bp.post("")
@documented(
    "提交暖心服务求助（支持 Idempotency-Key）",
    tag="warm",
    body=RequestIn,
    response=RequestDetail,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def submit(request: Request) -> HTTPResponse:
    body = parse_body(request, RequestIn)
    location = (body.location.lat, body.location.lng) if body.location else None
    created = await actions.submit(
        request.ctx.user.id, body.type, body.description, body.fields, location, body.org_id, request.ctx.actor
    )
    return respond(await request_detail(created, now()), status=201)


@bp.get("")
@documented("我的求助", tag="warm", query=PageQuery, response=RequestPage, secured="worker")
@worker_required
async def list_own(request: Request) -> HTTPResponse:
    page = parse_query(request, PageQuery)
    items, total = await own_page(request.ctx.user.id, offset=page.offset, limit=page.page_size)
    return respond(RequestPage(items=await requests_out(items, now()), total=total))


@bp.get("/<request_id:int>")
@documented("求助详情：往来消息与办理记录", tag="warm", response=RequestDetail, secured="worker")
@worker_required
async def get_own(request: Request, request_id: int) -> HTTPResponse:
    return await _detail(request, request_id)


@bp.post("/<request_id:int>/messages")
@documented(
    "给工会留言（回答补充信息时计时恢复）", tag="warm", body=ContentIn, response=RequestDetail, secured="worker"
)
@worker_required
@idempotent
async def message(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, ContentIn)
    await actions.worker_message(request.ctx.user.id, request_id, body.content, request.ctx.actor)
    return await _detail(request, request_id)


@bp.post("/<request_id:int>/withdraw")
@documented("撤回求助", tag="warm", response=RequestDetail, secured="worker")
@worker_required
@idempotent
async def withdraw(request: Request, request_id: int) -> HTTPResponse:
    await actions.withdraw(request.ctx.user.id, request_id, request.ctx.actor)
    return await _detail(request, request_id)


@bp.post("/<request_id:int>/reopen")
@documented(
    f"办结后 {actions.REOPEN_DAYS} 天内重新打开", tag="warm", body=ReasonIn, response=RequestDetail, secured="worker"
)
@worker_required
@idempotent
async def reopen(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, ReasonIn)
    await actions.reopen(request.ctx.user.id, request_id, body.reason, request.ctx.actor)
    return await _detail(request, request_id)


@bp.post("/<request_id:int>/rating")
@documented("评价办结的求助（每件一次）", tag="warm", body=RatingIn, response=RatingOut, status=201, secured="worker")
@worker_required
@idempotent
async def rating(request: Request, request_id: int) -> HTTPResponse:
    body = parse_body(request, RatingIn)
    rated = await actions.rate_request(request.ctx.user.id, request_id, body.score, body.comment, request.ctx.actor)
    return respond(RatingOut(id=rated.id, score=rated.score), status=201)
