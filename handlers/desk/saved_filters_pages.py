"""Saved filters: keep the list filter in view under a name, delete one; each caseworker's own."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.desk.queues import QUEUES, local_back
from handlers.pages import form_value, page_guard
from models.desk import saved_filters
from models.errors import DomainError, Invalid
from models.kernel.permissions import Permission

bp = Blueprint("admin_pages_saved_filters")

# The lists whose filters can be kept; a saved filter is only ever opened as one of them.
LISTS = {*QUEUES, "/admin/members"}
# What the address carries besides the filter: where the list was, and what it last said.
NOT_FILTERS = {"page", "notice", "batch", "done", "failed", "back"}


def _list_filter(url: str) -> tuple[str, str]:
    """The list and its filter from the address the form was on; anything else is refused."""
    local = local_back(url)
    parts = urlsplit(local or "")
    if local is None or parts.path not in LISTS:
        raise Invalid("saved_filter.not_a_list", "只能保存列表页的筛选条件", {"field": "url"})
    kept = [(key, value) for key, value in parse_qsl(parts.query) if key not in NOT_FILTERS and value]
    return parts.path, urlencode(kept)


def _with_notice(url: str, notice: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}notice={notice}"


@bp.post("/saved-filters")
@page_guard(Permission.DESK_USE)
async def save(request: Request) -> HTTPResponse:
    url = form_value(request, "url")
    path, query = _list_filter(url)
    try:
        kept = await saved_filters.save(request.ctx.staff, form_value(request, "name"), path, query, request.ctx.actor)
    except DomainError as exc:
        if exc.code != "saved_filter.name":
            raise
        return redirect(_with_notice(f"{path}?{query}" if query else path, "filter_name"))
    return redirect(_with_notice(kept.url, "filter_saved"))


@bp.post("/saved-filters/<filter_id:int>/delete")
@page_guard(Permission.DESK_USE)
async def delete(request: Request, filter_id: int) -> HTTPResponse:
    removed = await saved_filters.delete(request.ctx.staff, filter_id, request.ctx.actor)
    back = local_back(form_value(request, "back")) or removed.path
    return redirect(_with_notice(back, "filter_deleted"))
