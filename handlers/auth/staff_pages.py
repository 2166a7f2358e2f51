"""Login (with its own CSRF token before there is a session), logout, and the forced password
change for accounts created with a temporary password."""

from __future__ import annotations

import hmac

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sanic_ext.extensions.openapi import openapi

from handlers.pages import (
    form_value,
    keep_for_session,
    kept_from_login,
    login_page,
    login_token,
    page_guard,
    render,
    safe_next,
)
from models.accounts import SubjectKind
from models.errors import DomainError, Invalid, TooManyAttempts
from models.unions.staff import authenticate_staff, change_password
from server.auth.cookies import (
    ADMIN_SESSION_COOKIE,
    LOGIN_NONCE_COOKIE,
    clear_cookie,
    read_cookie,
    require_same_origin,
    set_cookie,
)
from server.auth.guards import client_ip

bp = Blueprint("admin_pages_session")


@bp.get("/login")
@openapi.exclude()
async def login_form(request: Request) -> HTTPResponse:
    return login_page(request, next_path=request.args.get("next", ""))


@bp.post("/login")
@openapi.exclude()
async def login(request: Request) -> HTTPResponse:
    require_same_origin(request)
    nonce = read_cookie(request, LOGIN_NONCE_COOKIE)
    sent = form_value(request, "csrf_token")
    username = form_value(request, "username")
    again = {"username": username, "next_path": form_value(request, "next"), "kept": kept_from_login(request)}
    if not nonce or not sent.isascii() or not hmac.compare_digest(login_token(request, nonce), sent):
        return login_page(request, error="页面已过期，请重新登录", status=403, **again)
    try:
        staff = await authenticate_staff(
            request.app.ctx.limits.staff_login,
            username,
            form_value(request, "password"),
            client_ip(request),
            request.ctx.request_id,
        )
    except TooManyAttempts:
        raise  # the error page, with Retry-After
    except DomainError as exc:
        return login_page(request, error=exc.message, status=exc.status, **again)
    issued = await request.app.ctx.tokens.issue(
        SubjectKind.STAFF,
        staff.id,
        request.app.ctx.settings.admin_token_ttl_seconds,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    target = safe_next(form_value(request, "next"))
    if again["kept"] is not None:
        await keep_for_session(request, issued.session.id, again["kept"])
        target += ("&" if "?" in target else "?") + "kept=1"
    response = redirect("/admin/password" if staff.must_change_password else target)
    set_cookie(request, response, ADMIN_SESSION_COOKIE, issued.token, max_age=issued.expires_in)
    clear_cookie(request, response, LOGIN_NONCE_COOKIE)
    return response


@bp.post("/logout")
@page_guard()
async def logout(request: Request) -> HTTPResponse:
    await request.app.ctx.tokens.revoke(request.ctx.session)
    response = redirect("/admin/login")
    clear_cookie(request, response, ADMIN_SESSION_COOKIE)
    return response


@bp.get("/password")
@page_guard()
async def password_form(request: Request) -> HTTPResponse:
    return render(request, "admin/password.html")


@bp.post("/password")
@page_guard()
async def password(request: Request) -> HTTPResponse:
    new, repeated = form_value(request, "new_password"), form_value(request, "repeat_password")
    try:
        if new != repeated:
            raise Invalid("auth.password_mismatch", "两次输入的新密码不一致")
        await change_password(
            request.ctx.staff, form_value(request, "old_password"), new, request.ctx.actor, request.ctx.session.id
        )
    except DomainError as exc:
        return render(request, "admin/password.html", status=exc.status, error=exc.message)
    return redirect("/admin/?notice=password")
