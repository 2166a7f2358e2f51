"""An enterprise's engagements, for its contacts in the mini-program."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.engagements.shapes import EngagementPage, engagement_out
from models.engagements.queries import enterprise_engagements
from models.enterprises.queries import contact_scope
from server.auth.guards import worker_required
from server.http import documented, respond

bp = Blueprint("enterprise_engagements", url_prefix="/api/v1/enterprises")


@bp.get("/<enterprise_id:int>/engagements")
@documented(
    "本企业的长期合作（聘任的专家与培训记录，企业联系人可见）",
    tag="enterprises",
    response=EngagementPage,
    secured="worker",
)
@worker_required
async def list_engagements(request: Request, enterprise_id: int) -> HTTPResponse:
    views = await enterprise_engagements(await contact_scope(request.ctx.user.id), enterprise_id)
    return respond(EngagementPage(items=[engagement_out(v) for v in views], total=len(views)))
