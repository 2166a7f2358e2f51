"""Background jobs' failures, for union admins (their subtree's items) and superadmins (all)."""

from __future__ import annotations

from typing import Literal

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.kernel.jobs import JobFailure, resolve_failure, retry_failure
from models.kernel.permissions import Permission
from server.auth.guards import staff_required
from server.http import LocalTime, PageQuery, Shape, documented, parse_query, respond

bp = Blueprint("admin_jobs", url_prefix="/api/v1/admin/jobs")


class FailureQuery(PageQuery):
    state: Literal["open", "closed", "all"] = "open"
    job: str | None = None
    item_type: str | None = None


class FailureOut(Shape):
    id: int
    job: str
    item_type: str
    item_id: str
    org_id: int | None
    error: str
    attempts: int
    first_seen_at: LocalTime
    last_seen_at: LocalTime
    resolved_at: LocalTime | None
    resolved_by: str
    resolution: str
    retryable: bool


class FailurePage(Shape):
    items: list[FailureOut]
    total: int


def failure_out(failure: JobFailure) -> FailureOut:
    return FailureOut.model_validate(failure)


@bp.get("/failures")
@documented(
    "后台任务失败项：超级管理员看全部；工会管理员看属于本级及下级组织的项（不属于任何组织的项仅超级管理员可见）",
    tag="admin-jobs",
    query=FailureQuery,
    response=FailurePage,
    secured="staff",
)
@staff_required(Permission.JOBS_MANAGE)
async def list_failures(request: Request) -> HTTPResponse:
    query = parse_query(request, FailureQuery)
    failures = request.ctx.scope.restrict(JobFailure.all())
    if query.state != "all":
        failures = failures.filter(resolved_at__isnull=query.state == "open")
    filters = {"job": query.job, "item_type": query.item_type}
    failures = failures.filter(**{key: value for key, value in filters.items() if value is not None})
    total = await failures.count()
    page = await failures.order_by("-last_seen_at", "-id").offset(query.offset).limit(query.page_size)
    return respond(FailurePage(items=[failure_out(failure) for failure in page], total=total))


@bp.post("/failures/<failure_id:int>/retry")
@documented(
    "把失败项放回其任务队列重试，并关闭该记录（再次失败会重新打开）",
    tag="admin-jobs",
    response=FailureOut,
    secured="staff",
)
@staff_required(Permission.JOBS_MANAGE)
async def retry(request: Request, failure_id: int) -> HTTPResponse:
    return respond(failure_out(await retry_failure(request.ctx.scope, failure_id, request.ctx.actor)))


@bp.post("/failures/<failure_id:int>/resolve")
@documented("不重试，标记失败项为已处理", tag="admin-jobs", response=FailureOut, secured="staff")
@staff_required(Permission.JOBS_MANAGE)
async def resolve(request: Request, failure_id: int) -> HTTPResponse:
    return respond(failure_out(await resolve_failure(request.ctx.scope, failure_id, request.ctx.actor)))
