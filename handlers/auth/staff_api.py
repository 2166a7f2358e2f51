"""Staff login: a bearer token for API clients, or a session cookie (with CSRF token) for the
admin pages; logout; the staff member's own account."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.accounts import STAFF_ROLE_LABELS, StaffAccount, StaffRole, SubjectKind
from models.orgs import Org
from models.unions.staff import authenticate_staff, change_password
from server.auth.cookies import ADMIN_SESSION_COOKIE, clear_cookie, require_same_origin, set_cookie
from server.auth.guards import client_ip, staff_required
from server.auth.tokens import IssuedToken
from server.http import LocalTime, Shape, documented, parse_body, respond

bp = Blueprint("admin_auth", url_prefix="/api/v1/admin")


class StaffLoginIn(Shape):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class StaffOut(Shape):
    id: int
    username: str
    display_name: str
    role: StaffRole
    role_label: str
    org_id: int
    org_name: str
    must_change_password: bool
    last_login_at: LocalTime | None


class StaffLoginOut(Shape):
    token: str
    expires_in: int
    staff: StaffOut


class StaffSessionOut(Shape):
    csrf_token: str
    expires_in: int
    staff: StaffOut


class PasswordChangeIn(Shape):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


async def staff_out(staff: StaffAccount) -> StaffOut:
    org = await Org.get(id=staff.org_id)
    return StaffOut(
        id=staff.id,
        username=staff.username,
        display_name=staff.display_name,
        role=staff.role,
        role_label=STAFF_ROLE_LABELS[staff.role],
        org_id=org.id,
        org_name=org.name,
        must_change_password=staff.must_change_password,
        last_login_at=staff.last_login_at,
    )


async def _login(request: Request) -> tuple[StaffAccount, IssuedToken]:
    body = parse_body(request, StaffLoginIn)
    staff = await authenticate_staff(
        request.app.ctx.limits.staff_login, body.username, body.password, client_ip(request), request.ctx.request_id
    )
    issued = await request.app.ctx.tokens.issue(
        SubjectKind.STAFF,
        staff.id,
        request.app.ctx.settings.admin_token_ttl_seconds,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    return staff, issued


@bp.post("/auth/login")
@documented(
    "工作人员登录（接口客户端）：返回 Bearer 凭证；连续失败后须等待，等待时间逐次加长（429）",
    tag="admin-auth",
    body=StaffLoginIn,
    response=StaffLoginOut,
)
async def login(request: Request) -> HTTPResponse:
    staff, issued = await _login(request)
    return respond(StaffLoginOut(token=issued.token, expires_in=issued.expires_in, staff=await staff_out(staff)))


@bp.post("/auth/session")
@documented(
    "工作人员登录（管理页面）：设置会话 Cookie，返回 CSRF 令牌；之后的写操作须带 X-CSRF-Token",
    tag="admin-auth",
    body=StaffLoginIn,
    response=StaffSessionOut,
)
async def open_session(request: Request) -> HTTPResponse:
    require_same_origin(request)
    staff, issued = await _login(request)
    response = respond(
        StaffSessionOut(
            csrf_token=request.app.ctx.tokens.csrf_token(issued.session.id),
            expires_in=issued.expires_in,
            staff=await staff_out(staff),
        )
    )
    set_cookie(request, response, ADMIN_SESSION_COOKIE, issued.token, max_age=issued.expires_in)
    return response


@bp.post("/auth/logout")
@documented("退出登录：当前凭证或会话立即失效", tag="admin-auth", secured="staff")
@staff_required()
async def logout(request: Request) -> HTTPResponse:
    await request.app.ctx.tokens.revoke(request.ctx.session)
    response = respond({"ok": True})
    clear_cookie(request, response, ADMIN_SESSION_COOKIE)
    return response


@bp.get("/me")
@documented("当前工作人员账号", tag="admin-auth", response=StaffOut, secured="staff")
@staff_required()
async def me(request: Request) -> HTTPResponse:
    return respond(await staff_out(request.ctx.staff))


@bp.post("/auth/password")
@documented("修改密码（临时密码登录后须先修改）", tag="admin-auth", body=PasswordChangeIn, secured="staff")
@staff_required()
async def password(request: Request) -> HTTPResponse:
    body = parse_body(request, PasswordChangeIn)
    await change_password(
        request.ctx.staff, body.old_password, body.new_password, request.ctx.actor, request.ctx.session.id
    )
    return respond({"ok": True})
