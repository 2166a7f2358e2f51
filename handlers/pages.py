"""What every admin page shares: the guard that sends strangers to the login page, rendering with
the staff member and CSRF token in the context, form and query helpers, and Excel export."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from pydantic import TypeAdapter
from sanic import Request
from sanic.response import HTTPResponse, html, raw, redirect
from sanic_ext.extensions.openapi import openapi

from models.accounts import STAFF_ROLE_LABELS
from models.audit import record
from models.errors import Forbidden, Invalid, Unauthorized
from models.kernel.permissions import Permission
from models.kernel.sheets import XLSX_MEDIA_TYPE, table_file
from models.profiles.identity import is_ascii_digits
from server.auth.cookies import LOGIN_NONCE_COOKIE, require_same_origin, set_cookie
from server.auth.guards import admit_staff
from server.http import MAX_DB_ID, BoundedDateTime
from server.proxy import public_host

_BOUNDED_TIME = TypeAdapter(BoundedDateTime)

Page = Callable[..., Awaitable[HTTPResponse]]
EXPORT_ROW_LIMIT = 50_000
PAGE_SIZE = 20


def page_guard(permission: Permission | None = None) -> Callable[[Page], Page]:
    """Staff with the admin session cookie; anyone else goes to the login page."""

    def decorate(handler: Page) -> Page:
        @openapi.exclude()
        @wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            try:
                staff = await admit_staff(request, permission)
            except Unauthorized:
                if request.method == "POST":
                    return _login_to_resume(request)
                return redirect(f"/admin/login?next={quote(request.path)}")
            if staff.must_change_password and request.path != "/admin/password":
                return redirect("/admin/password")
            if request.args.get("kept") and (
                kept := await request.app.ctx.shared_state.get(_kept_key(request.ctx.session.id))
            ):
                request.ctx.kept = json.loads(kept)
            return await handler(request, *args, **kwargs)

        return guarded

    return decorate


# A form posted after the session ended: the login page carries its text fields (hidden inputs
# named `kept.<field>`) and, once logged in, they wait in shared state for the form's page, which
# shows them filled in for the caseworker to check and send again. Nothing is replayed.
KEPT_PREFIX = "kept."
KEPT_SECONDS = 900
KEPT_FIELDS, KEPT_LENGTH = 20, 5000
_NOT_KEPT = {"csrf_token", "back"}
_ONE_SHOT = {"notice", "batch", "error", "saved", "done", "added", "who", "kept"}


def login_token(request: Request, nonce: str) -> str:
    return hmac.new(request.app.ctx.settings.secret_key.encode(), f"login:{nonce}".encode(), hashlib.sha256).hexdigest()


def safe_next(target: str) -> str:
    """A local admin address to go to after login; anything else is the home page."""
    local = target.startswith("/admin/") and not target.startswith("/admin/login") and "\\" not in target
    return target if local else "/admin/"


def login_page(
    request: Request,
    *,
    error: str = "",
    status: int = 200,
    username: str = "",
    next_path: str = "",
    kept: dict[str, Any] | None = None,
) -> HTTPResponse:
    """The login form, with its own CSRF token (there is no session yet) and what to resume."""
    nonce = secrets.token_hex(16)
    response = render(
        request,
        "admin/login.html",
        status=status,
        error=error,
        username=username,
        login_token=login_token(request, nonce),
        next=safe_next(next_path),
        kept=kept,
    )
    set_cookie(request, response, LOGIN_NONCE_COOKIE, nonce, max_age=3600, samesite="Strict")
    return response


def _form_page(request: Request) -> str:
    """The page a form was posted from (the case, not its POST address): the same-origin
    Referer, else the address without its last step (`/admin/enrolments/7/reject` → `/7`)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc.lower() == public_host(request) and referer.path.startswith("/admin/"):
        # Filters stay; what the page said about the last action (notice=, batch=, ...) does not.
        query = [(k, v) for k, v in parse_qsl(referer.query) if k not in _ONE_SHOT]
        return referer.path + (f"?{urlencode(query)}" if query else "")
    return request.path.rsplit("/", 1)[0]


def _posted_text(request: Request) -> dict[str, str]:
    """The form's single-valued text fields, if the form came from one of our pages: text another
    site posts must not turn up in a caseworker's form as if they had typed it."""
    if not (request.headers.get("origin") or request.headers.get("referer")):
        return {}
    try:
        require_same_origin(request)
    except Forbidden:
        return {}
    fields = {
        name: values[0][:KEPT_LENGTH]
        for name, values in (request.form or {}).items()
        if name not in _NOT_KEPT
        and "password" not in name
        and len(values) == 1
        and isinstance(values[0], str)
        and values[0].strip()
    }
    return dict(list(fields.items())[:KEPT_FIELDS])


def _login_to_resume(request: Request) -> HTTPResponse:
    fields = _posted_text(request)
    return login_page(
        request,
        error="登录已过期，请重新登录。"
        + ("您填写的内容已保留，登录后回到原页面，核对后再提交。" if fields else "登录后回到原页面。"),
        status=401,
        next_path=_form_page(request),
        kept={"action": request.path, "fields": fields} if fields else None,
    )


def kept_from_login(request: Request) -> dict[str, Any] | None:
    """What the login form carries back from an expired session's form, if anything."""
    action = form_value(request, "kept_action")
    fields = {
        name.removeprefix(KEPT_PREFIX): values[0][:KEPT_LENGTH]
        for name, values in (request.form or {}).items()
        if name.startswith(KEPT_PREFIX) and values
    }
    if not fields or not action.startswith("/admin/"):
        return None
    return {"action": action, "fields": dict(list(fields.items())[:KEPT_FIELDS])}


async def keep_for_session(request: Request, session_id: object, kept: dict[str, Any]) -> None:
    await request.app.ctx.shared_state.set(_kept_key(session_id), json.dumps(kept), KEPT_SECONDS)


def _kept_key(session_id: object) -> str:
    return f"kept-form:{session_id}"


def _kept_value(request: Request) -> Callable[[str, str], str]:
    kept = getattr(request.ctx, "kept", None) or {}

    def value(action: str, name: str) -> str:
        return str(kept.get("fields", {}).get(name, "")) if kept.get("action") == action else ""

    return value


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    staff = getattr(request.ctx, "staff", None)
    session = getattr(request.ctx, "session", None)
    context.setdefault("kept_value", _kept_value(request))
    context.setdefault("kept_form", bool(getattr(request.ctx, "kept", None)))
    context.setdefault("staff", staff)
    context.setdefault("role_label", STAFF_ROLE_LABELS.get(staff.role) if staff else "")
    context.setdefault("csrf_token", request.app.ctx.tokens.csrf_token(session.id) if session else "")
    context.setdefault("path", request.path)
    body = request.app.ext.environment.get_template(template).render(**context)
    return html(body, status=status)


def form_value(request: Request, name: str, default: str = "") -> str:
    values = (request.form or {}).get(name)
    return (values or default).strip() if isinstance(values, str) else default


def reason_of(request: Request, name: str = "reason") -> str:
    """A reason from a form: what was typed, else the preset reason picked beside it (the
    select that fills the text box with JavaScript, and stands in for it without)."""
    return form_value(request, name) or form_value(request, f"preset_{name}")


def form_values(request: Request, name: str) -> list[str]:
    return list((request.form or {}).getlist(name) or [])


def args_of(request: Request, names: Iterable[str]) -> dict[str, str]:
    return {name: request.args.get(name, "").strip() for name in names}


def optional_bool(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text)


def optional_int(text: str) -> int | None:
    """An id or page number from a form or query string: ASCII digits only (`isdigit()` also
    takes "²" and "４"), within what the database holds; empty means not given."""
    text = text.strip()
    if not text:
        return None
    if not (is_ascii_digits(text) and 0 < int(text) <= MAX_DB_ID):
        raise Invalid("request.invalid_number", "编号或页码须为正整数")
    return int(text)


def optional_date(text: str) -> datetime | None:
    """A date or time from a filter, within the range every shape accepts; empty means not given."""
    return _BOUNDED_TIME.validate_python(text) if text.strip() else None


def page_number(request: Request) -> int:
    return min(optional_int(request.args.get("page", "")) or 1, 1_000_000)


async def listing(request: Request, query: Any, total: int | None = None) -> dict[str, Any]:
    """One page of `query` (ordered by the caller) and what the pager in the template needs;
    `total` when the caller knows it without counting."""
    page = page_number(request)
    total = await query.count() if total is None else total
    return {
        "items": await query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE),
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "with_query": lambda **changes: with_query(request, **changes),
    }


def with_query(request: Request, **changes: Any) -> str:
    """The current page's URL with some query parameters changed (for paging and sorting links)."""
    current = {key: request.args.get(key) for key in request.args}
    current.update({key: value for key, value in changes.items()})
    clean = {key: value for key, value in current.items() if value not in (None, "")}
    return f"{request.path}?{urlencode(clean)}" if clean else request.path


async def xlsx(
    request: Request, filename: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HTTPResponse:
    """The rows as an Excel file (models/kernel/sheets.py: frozen header, fitted widths); who
    exported what, with which filter, goes to the audit log."""
    rows = list(rows)
    filters = {key: request.args.get(key) for key in request.args}
    await record(
        request.ctx.actor,
        "export",
        object_type=title,
        org_id=request.ctx.staff.org_id,
        after={"file": filename, "rows": len(rows), "filter": filters},
    )
    return raw(
        await asyncio.to_thread(table_file, title, header, rows),
        content_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
