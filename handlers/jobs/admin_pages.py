"""Background jobs' failures, for union admins (their subtree's items) and superadmins (all):
the list, retry and resolve."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.pages import args_of, listing, page_guard, render
from models.errors import DomainError
from models.kernel.jobs import JobFailure, resolve_failure, retry_failure
from models.kernel.permissions import Permission

bp = Blueprint("admin_pages_jobs")
JOB_LABELS = {"notifications": "消息发送", "broadcasts": "通知生成"}
ITEM_LABELS = {"notification_delivery": "消息", "broadcast": "通知", "round": "整轮任务"}
STATES = {"open": "待处理", "closed": "已处理", "all": "全部"}
RESOLUTIONS = {"retried": "已重试", "resolved": "已标记处理", "recovered": "已自行恢复"}


@bp.get("/jobs")
@page_guard(Permission.JOBS_MANAGE)
async def failure_list(request: Request) -> HTTPResponse:
    chosen = args_of(request, ("state",))
    chosen["state"] = chosen["state"] if chosen["state"] in STATES else "open"
    query = request.ctx.scope.restrict(JobFailure.all())
    if chosen["state"] != "all":
        query = query.filter(resolved_at__isnull=chosen["state"] == "open")
    page_of = await listing(request, query.order_by("-last_seen_at", "-id"))
    return render(
        request,
        "admin/jobs.html",
        **page_of,
        chosen=chosen,
        states=STATES,
        job_labels=JOB_LABELS,
        item_labels=ITEM_LABELS,
        resolutions=RESOLUTIONS,
        notice=request.args.get("notice", ""),
    )


@bp.post("/jobs/<failure_id:int>/<action:retry|resolve>")
@page_guard(Permission.JOBS_MANAGE)
async def close_failure(request: Request, failure_id: int, action: str) -> HTTPResponse:
    close = retry_failure if action == "retry" else resolve_failure
    try:
        await close(request.ctx.scope, failure_id, request.ctx.actor)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/admin/jobs?notice={exc.code}")
    return redirect(f"/admin/jobs?notice={action}")
