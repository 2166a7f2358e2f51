"""What every admin page shares: the guard that sends strangers to the login page, rendering with
the staff member and CSRF token in the context, form and query helpers, and Excel export."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import TypeAdapter
from sanic import Request
from sanic.response import HTTPResponse, html, raw, redirect
from sanic_ext.extensions.openapi import openapi

from models.accounts import STAFF_ROLE_LABELS
from models.audit import record
from models.errors import Invalid, Unauthorized
from models.kernel.permissions import Permission
from models.kernel.sheets import XLSX_MEDIA_TYPE, table_file
from models.profiles.identity import is_ascii_digits
from server.auth.guards import admit_staff
from server.http import MAX_DB_ID, BoundedDateTime

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
                return redirect(f"/admin/login?next={quote(request.path)}")
            if staff.must_change_password and request.path != "/admin/password":
                return redirect("/admin/password")
            return await handler(request, *args, **kwargs)

        return guarded

    return decorate


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    staff = getattr(request.ctx, "staff", None)
    session = getattr(request.ctx, "session", None)
    context.setdefault("staff", staff)
    context.setdefault("role_label", STAFF_ROLE_LABELS.get(staff.role) if staff else "")
    context.setdefault("csrf_token", request.app.ctx.tokens.csrf_token(session.id) if session else "")
    context.setdefault("path", request.path)
    body = request.app.ext.environment.get_template(template).render(**context)
    return html(body, status=status)


def form_value(request: Request, name: str, default: str = "") -> str:
    values = (request.form or {}).get(name)
    return (values or default).strip() if isinstance(values, str) else default


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
