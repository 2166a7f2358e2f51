"""The expert in the mini-program: binding their WeChat account with the union's code, and their
own roster entry."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.experts.shapes import ExpertOut, experts_out
from models.errors import NotFound
from models.experts import actions
from models.experts.queries import expert_of_user
from server.auth.guards import worker_required
from server.clock import now
from server.http import Shape, documented, parse_body, respond
from server.idempotency import idempotent

bp = Blueprint("expert", url_prefix="/api/v1/expert")


class ClaimIn(Shape):
    invite_code: str = Field(min_length=1, max_length=32, description="工会发给专家的 8 位邀请码")


@bp.post("/claim")
@documented(
    "专家凭邀请码绑定本人微信账号（单次有效，过期作废；支持 Idempotency-Key）",
    tag="expert",
    body=ClaimIn,
    response=ExpertOut,
    secured="worker",
)
@worker_required
@idempotent
async def claim(request: Request) -> HTTPResponse:
    body = parse_body(request, ClaimIn)
    expert = await actions.claim(request.ctx.user.id, body.invite_code, now())
    (out,) = await experts_out([expert])
    return respond(out)


@bp.get("/me")
@documented("专家本人的资料（未绑定时 404）", tag="expert", response=ExpertOut, secured="worker")
@worker_required
async def me(request: Request) -> HTTPResponse:
    expert = await expert_of_user(request.ctx.user.id)
    if expert is None:
        raise NotFound("expert.not_bound", "您的微信账号尚未绑定专家身份")
    (out,) = await experts_out([expert])
    return respond(out)
