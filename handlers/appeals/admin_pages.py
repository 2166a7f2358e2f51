"""Workers' demands for caseworkers: the list with filters and the tally table for the same
window, with reply and take-up on each demand."""

from __future__ import annotations

from collections.abc import Awaitable

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.desk.queues import APPEALS
from handlers.pages import form_value, listing, optional_date, page_guard, render, with_query
from models.appeals import actions, queries
from models.appeals.tables import STATUS_LABELS, AppealStatus
from models.catalogue import APPEAL_TOPICS, PLATFORMS
from models.desk.saved_filters import saved_by
from models.errors import DomainError
from models.kernel.permissions import Permission
from models.orgs import org_names
from server.clock import now

bp = Blueprint("admin_pages_appeals")


@bp.get("/appeals")
@page_guard(Permission.APPEALS_READ)
async def appeal_list(request: Request) -> HTTPResponse:
    moment = now()
    chosen, query = await APPEALS.from_request(request, moment)
    day_from, day_to = optional_date(chosen["from"]), optional_date(chosen["to"])
    window = {"day_from": day_from.date() if day_from else None, "day_to": day_to.date() if day_to else None}
    page_of = await listing(request, query)
    items = page_of["items"]
    tally = await queries.tally(request.ctx.scope, **window)
    return render(
        request,
        "admin/appeals.html",
        **page_of,
        chosen=chosen,
        org_names=await org_names({item.org_id for item in items}),
        replies=await queries.replies_of([item.id for item in items]),
        filers=await queries.filers(items),
        tally=tally,
        tally_total=sum(row.count for row in tally),
        topics=APPEAL_TOPICS,
        platforms=PLATFORMS,
        statuses=list(AppealStatus),
        status_labels=STATUS_LABELS,
        notice=request.args.get("notice", ""),
        now=moment,
        saved=await saved_by(request.ctx.staff, "/admin/appeals"),
        back=with_query(request, notice=None),
    )


async def _after(appeal_id: int, step: str, done: Awaitable[object]) -> HTTPResponse:
    """Back to the list at the demand, saying what happened; a demand outside the subtree is 404."""
    try:
        await done
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/admin/appeals?notice={exc.code}#appeal-{appeal_id}")
    return redirect(f"/admin/appeals?notice={step}#appeal-{appeal_id}")


@bp.post("/appeals/<appeal_id:int>/reply")
@page_guard(Permission.APPEALS_REPLY)
async def reply(request: Request, appeal_id: int) -> HTTPResponse:
    content = form_value(request, "content")
    return await _after(appeal_id, "reply", actions.reply(request.ctx.scope, appeal_id, content, request.ctx.actor))


@bp.post("/appeals/<appeal_id:int>/take-up")
@page_guard(Permission.APPEALS_TAKE_UP)
async def take_up(request: Request, appeal_id: int) -> HTTPResponse:
    return await _after(appeal_id, "take-up", actions.take_up(request.ctx.scope, appeal_id, request.ctx.actor))
