"""The working-day calendar for admins: the year's special days, and overrides nationwide
(superadmin) or for a union's subtree (its admins)."""

from __future__ import annotations

from datetime import date

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.kernel.calendar import DaySource, remove_override, set_override, year_view
from models.kernel.permissions import Permission
from server.auth.guards import staff_required
from server.clock import now
from server.http import DbId, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_calendar", url_prefix="/api/v1/admin/calendar")


class CalendarQuery(Shape):
    year: int | None = Field(None, description="默认为今年")
    org_id: DbId | None = Field(None, description="工会组织；不填时超级管理员看全国，工会管理员看本级")


class DayOut(Shape):
    date: date
    working: bool
    name: str
    source: DaySource = Field(description="library：法定安排；estimated：按规则估算；override：管理员调整")
    org_id: int | None = Field(description="调整所属工会；全国调整或法定安排为 null")
    note: str


class YearOut(Shape):
    year: int
    org_id: int | None
    official: bool = Field(description="该年安排是否已由国务院公布并收录；否则为估算")
    days: list[DayOut]


class OverrideIn(Shape):
    date: date
    working: bool
    note: str = Field("", max_length=200)
    org_id: DbId | None = Field(None, description="不填为全国（仅超级管理员）")


class OverrideOut(Shape):
    date: date
    working: bool
    note: str
    org_id: int | None


class OverrideTarget(Shape):
    org_id: DbId | None = None


@bp.get("")
@documented(
    "某年的节假日与调休工作日（含管理员调整），及该年安排是否为官方公布",
    tag="admin-calendar",
    query=CalendarQuery,
    response=YearOut,
    secured="staff",
)
@staff_required(Permission.CALENDAR_MANAGE)
async def show_year(request: Request) -> HTTPResponse:
    query = parse_query(request, CalendarQuery)
    scope = request.ctx.scope
    org_id = query.org_id if query.org_id is not None or scope.sees_everything else scope.org_id
    view = await year_view(scope, query.year or now().year, org_id)
    days = [
        DayOut(date=d.day, working=d.working, name=d.name, source=d.source, org_id=d.org_id, note=d.note)
        for d in view.days
    ]
    return respond(YearOut(year=view.year, org_id=view.org_id, official=view.official, days=days))


@bp.put("/days")
@documented(
    "设置某日为工作日或休息日（全国或本级及下级工会），覆盖法定安排",
    tag="admin-calendar",
    body=OverrideIn,
    response=OverrideOut,
    secured="staff",
)
@staff_required(Permission.CALENDAR_MANAGE)
async def put_day(request: Request) -> HTTPResponse:
    body = parse_body(request, OverrideIn)
    row = await set_override(
        request.ctx.scope,
        day=body.date,
        working=body.working,
        note=body.note,
        org_id=body.org_id,
        actor=request.ctx.actor,
    )
    return respond(OverrideOut(date=row.day, working=row.working, note=row.note, org_id=row.org_id))


@bp.delete("/days/<day:ymd>")
@documented(
    "撤销某日的调整，恢复上级或法定安排", tag="admin-calendar", query=OverrideTarget, status=204, secured="staff"
)
@staff_required(Permission.CALENDAR_MANAGE)
async def delete_day(request: Request, day: date) -> HTTPResponse:
    target = parse_query(request, OverrideTarget)
    await remove_override(request.ctx.scope, day=day, org_id=target.org_id, actor=request.ctx.actor)
    return HTTPResponse(status=204)
