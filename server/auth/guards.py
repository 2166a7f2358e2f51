"""Route guards: who may call a handler.

`worker_required` accepts a worker's bearer token. `staff_required(permission)` accepts a staff
bearer token or the admin session cookie; with the cookie, every state-changing request must
come from our own pages (`Origin`, server/auth/cookies.py) and carry the session's CSRF token
(header `X-CSRF-Token` or form field `csrf_token`). A valid token of the other kind (a worker's
on an admin route) is 403: the caller is known, and not allowed. Both put the
caller on `request.ctx` (`user` or `staff`, `actor`, and for staff the `scope`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from models.accounts import StaffAccount, SubjectKind
from models.audit import Actor
from models.errors import DomainError, Forbidden, Unauthorized
from models.kernel.permissions import Permission, may
from models.scope import StaffScope
from server.auth.cookies import ADMIN_SESSION_COOKIE, read_cookie, require_same_origin
from server.auth.tokens import Authenticated, TokenService
from server.proxy import client_ip

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PASSWORD_CHANGE_PATHS = {"/api/v1/admin/auth/password", "/api/v1/admin/me", "/api/v1/admin/auth/logout"}

Handler = Callable[..., Awaitable[HTTPResponse]]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _tokens(request: Request) -> TokenService:
    return request.app.ctx.tokens


async def authenticate(request: Request, kind: SubjectKind) -> Authenticated:
    token = bearer_token(request)
    if token is not None:
        return await _tokens(request).authenticate(token, kind)
    if kind == SubjectKind.STAFF and (cookie := read_cookie(request, ADMIN_SESSION_COOKIE)):
        authenticated = await _tokens(request).authenticate(cookie, kind)
        if request.method not in _SAFE_METHODS:
            require_same_origin(request)
            sent = request.headers.get("x-csrf-token") or (request.form or {}).get("csrf_token", "")
            if not sent or not _tokens(request).csrf_matches(authenticated.session.id, sent):
                raise Forbidden("auth.csrf_failed", "页面已过期或请求来源无法确认，请刷新页面后重试")
        return authenticated
    raise Unauthorized("auth.required", "请先登录")


def worker_required(handler: Handler) -> Handler:
    @wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        authenticated = await authenticate(request, SubjectKind.USER)
        assert authenticated.user is not None
        request.ctx.session = authenticated.session
        request.ctx.user = authenticated.user
        request.ctx.actor = Actor(
            "user", authenticated.user.id, authenticated.user.openid, client_ip(request), request.ctx.request_id
        )
        return await handler(request, *args, **kwargs)

    return guarded


async def admit_staff(request: Request, permission: Permission | None) -> StaffAccount:
    """Authenticate a staff member, check the permission, and put them on `request.ctx`."""
    authenticated = await authenticate(request, SubjectKind.STAFF)
    staff = authenticated.staff
    assert staff is not None
    if permission is not None and not may(staff, permission):
        raise Forbidden("auth.role_forbidden", "您的账号角色无权进行此操作", {"permission": permission.value})
    # The admin pages send such accounts to the password page themselves (page_guard).
    if staff.must_change_password and request.path.startswith("/api/") and request.path not in PASSWORD_CHANGE_PATHS:
        raise Forbidden("auth.password_change_required", "您正在使用临时密码，请先修改密码")
    request.ctx.session = authenticated.session
    request.ctx.staff = staff
    request.ctx.scope = StaffScope.of(staff)
    request.ctx.actor = Actor("staff", staff.id, staff.username, client_ip(request), request.ctx.request_id)
    return staff


async def identify_staff(request: Request) -> None:
    """For a page that only shows (an error page): who is looking, if the request carries a live
    staff session, put on `request.ctx` as `admit_staff` would; no permission, no CSRF check."""
    if getattr(request.ctx, "staff", None) is not None:
        return
    token = bearer_token(request) or read_cookie(request, ADMIN_SESSION_COOKIE)
    if token is None:
        return
    try:  # the page shows who is looking even when the request itself was refused (CSRF)
        authenticated = await _tokens(request).authenticate(token, SubjectKind.STAFF)
    except DomainError:
        return
    request.ctx.session = authenticated.session
    request.ctx.staff = authenticated.staff


def staff_required(permission: Permission | None = None) -> Callable[[Handler], Handler]:
    """Any active staff account; with a `permission`, only roles that hold it
    (`models.kernel.permissions.ROLE_PERMISSIONS`)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            await admit_staff(request, permission)
            return await handler(request, *args, **kwargs)

        return guarded

    return decorate
