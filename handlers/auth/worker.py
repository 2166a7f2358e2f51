"""Worker login through WeChat, and the worker's own account (profile and membership summary)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.profiles.shapes import ProfileOut, profile_out
from models.accounts import SubjectKind, User, find_or_create_worker
from models.audit import Actor, record
from models.membership.queries import active_membership
from models.prepared import PreparedGet
from models.profiles.tables import WorkerProfile
from server.auth.guards import client_ip, worker_required
from server.clock import now
from server.http import LocalTime, Shape, documented, parse_body, respond

bp = Blueprint("worker_auth", url_prefix="/api/v1")


class WechatLoginIn(Shape):
    code: str

    model_config = Shape.model_config | {"str_min_length": 1, "str_max_length": 128}


class UserOut(Shape):
    id: int
    roles: list[str]
    created_at: LocalTime


class WechatLoginOut(Shape):
    token: str
    expires_in: int
    user: UserOut


class MembershipSummary(Shape):
    member_no: str
    org_id: int
    org_name: str
    status: str
    joined_at: LocalTime


class MeOut(Shape):
    user: UserOut
    roles: list[str]
    profile: ProfileOut | None
    membership: MembershipSummary | None


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, roles=list(user.roles), created_at=user.created_at)


@bp.post("/auth/wechat-login")
@documented("微信登录：用 wx.login 的 code 换取登录凭证", tag="auth", body=WechatLoginIn, response=WechatLoginOut)
async def wechat_login(request: Request) -> HTTPResponse:
    body = parse_body(request, WechatLoginIn)
    # Limited before WeChat is asked: every junk code would cost a jscode2session call.
    limits = request.app.ctx.limits
    await limits.worker_login.hit(client_ip(request))
    async with limits.worker_login_failures.counting_failures(client_ip(request)):
        identity = await request.app.ctx.wechat.code_to_session(body.code)
    user, created = await find_or_create_worker(identity.openid, identity.unionid, now())
    settings = request.app.ctx.settings
    issued = await request.app.ctx.tokens.issue(
        SubjectKind.USER,
        user.id,
        settings.worker_token_ttl_seconds,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    actor = Actor("user", user.id, user.openid, client_ip(request), request.ctx.request_id)
    await record(actor, "user.register" if created else "user.login", object_type="user", object_id=user.id)
    return respond(WechatLoginOut(token=issued.token, expires_in=issued.expires_in, user=user_out(user)))


@bp.post("/auth/logout")
@documented("退出登录：当前凭证立即失效", tag="auth", secured="worker")
@worker_required
async def logout(request: Request) -> HTTPResponse:
    await request.app.ctx.tokens.revoke(request.ctx.session)
    return respond({"ok": True})


# Read on every GET /api/v1/me: the SQL written once (models/prepared.py).
_PROFILE = PreparedGet(WorkerProfile, "user_id")


@bp.get("/me")
@documented("当前用户", tag="me", response=MeOut, secured="worker")
@worker_required
async def me(request: Request) -> HTTPResponse:
    user = request.ctx.user
    profile = await _PROFILE.get_or_none(user.id)
    membership = await active_membership(user.id, with_org=True)
    summary = None
    if membership is not None:
        org = membership.org
        summary = MembershipSummary(
            member_no=membership.member_no,
            org_id=org.id,
            org_name=org.name,
            status=membership.status.value,
            joined_at=membership.joined_at,
        )
    return respond(
        MeOut(
            user=user_out(user),
            roles=list(user.roles),
            profile=profile_out(profile) if profile else None,
            membership=summary,
        )
    )
