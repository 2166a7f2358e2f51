"""Enrolment for workers: apply to a union, follow the application, resubmit or withdraw."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.enrolment import actions, queries
from models.enrolment.machine import MACHINE
from models.enrolment.tables import STATUS_LABELS, Enrolment, EnrolmentStatus
from models.kernel.history import history_of
from models.orgs import Org
from models.profiles.identity import mask_phone
from server.auth.guards import worker_required
from server.http import DbId, LocalTime, PageQuery, Shape, documented, parse_body, parse_query, respond
from server.idempotency import idempotent

bp = Blueprint("enrolment", url_prefix="/api/v1/enrolments")


class EnrolmentIn(Shape):
    org_id: DbId
    occupation: str | None = Field(None, max_length=32, description="不填则取个人信息中的职业")
    occupation_other: str = Field("", max_length=32)
    platform: str | None = Field(None, max_length=32)
    platform_other: str = Field("", max_length=32)
    is_gig_worker: bool | None = Field(None, description="不填则按职业判断是否为新就业形态劳动者")
    note: str = Field("", max_length=500)


class ResubmitIn(Shape):
    note: str = Field("", max_length=500)


class EnrolmentCreated(Shape):
    id: int
    status: EnrolmentStatus


class HistoryItem(Shape):
    action: str
    from_status: str
    to_status: str
    actor_kind: str
    reason: str
    created_at: LocalTime


class EnrolmentOut(Shape):
    id: int
    status: EnrolmentStatus
    status_label: str
    org_id: int
    org_name: str
    real_name: str
    id_number: str
    phone: str
    occupation: str
    occupation_label: str
    platform: str
    platform_label: str
    is_gig_worker: bool
    note: str
    reason: str
    submitted_at: LocalTime
    decided_at: LocalTime | None


class EnrolmentDetail(EnrolmentOut):
    history: list[HistoryItem]


class EnrolmentPage(Shape):
    items: list[EnrolmentOut]
    total: int


def enrolment_out(enrolment: Enrolment, org_name: str) -> EnrolmentOut:
    return EnrolmentOut(
        id=enrolment.id,
        status=enrolment.status,
        status_label=STATUS_LABELS[enrolment.status],
        org_id=enrolment.org_id,
        org_name=org_name,
        real_name=enrolment.real_name,
        id_number=enrolment.id_masked,
        phone=mask_phone(enrolment.phone),
        occupation=enrolment.occupation,
        occupation_label=queries.occupation_label(enrolment),
        platform=enrolment.platform,
        platform_label=queries.platform_label(enrolment),
        is_gig_worker=enrolment.is_gig_worker,
        note=enrolment.note,
        reason=enrolment.reason,
        submitted_at=enrolment.submitted_at,
        decided_at=enrolment.decided_at,
    )


async def org_names(org_ids: set[int]) -> dict[int, str]:
    return dict(await Org.filter(id__in=list(org_ids)).values_list("id", "name"))


async def enrolment_detail(enrolment: Enrolment) -> EnrolmentDetail:
    names = await org_names({enrolment.org_id})
    history = await history_of(MACHINE.case_type, enrolment.id)
    return EnrolmentDetail(
        **enrolment_out(enrolment, names[enrolment.org_id]).model_dump(),
        history=[
            HistoryItem(
                action=event.action,
                from_status=event.from_status,
                to_status=event.to_status,
                actor_kind=event.actor_kind,
                reason=event.note,
                created_at=event.created_at,
            )
            for event in history
        ],
    )


@bp.post("")
@documented(
    "提交入会申请（支持 Idempotency-Key）；已是会员或已有在办申请时 409",
    tag="enrolment",
    body=EnrolmentIn,
    response=EnrolmentCreated,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def submit(request: Request) -> HTTPResponse:
    body = parse_body(request, EnrolmentIn)
    enrolment = await actions.submit(
        request.ctx.user,
        body.org_id,
        body.occupation,
        body.occupation_other,
        body.platform,
        body.platform_other,
        body.is_gig_worker,
        body.note,
        request.ctx.actor,
    )
    return respond(EnrolmentCreated(id=enrolment.id, status=enrolment.status), status=201)


@bp.get("")
@documented("我的入会申请", tag="enrolment", query=PageQuery, response=EnrolmentPage, secured="worker")
@worker_required
async def list_own(request: Request) -> HTTPResponse:
    page = parse_query(request, PageQuery)
    query = queries.own_enrolments(request.ctx.user)
    total = await query.count()
    items = await query.order_by("-id").offset(page.offset).limit(page.page_size)
    names = await org_names({item.org_id for item in items})
    return respond(EnrolmentPage(items=[enrolment_out(item, names[item.org_id]) for item in items], total=total))


@bp.get("/<enrolment_id:int>")
@documented("入会申请详情，含办理记录", tag="enrolment", response=EnrolmentDetail, secured="worker")
@worker_required
async def get_own(request: Request, enrolment_id: int) -> HTTPResponse:
    return respond(await enrolment_detail(await queries.own_enrolment(request.ctx.user, enrolment_id)))


@bp.post("/<enrolment_id:int>/resubmit")
@documented(
    "补充材料后重新提交（先用 PUT /me/profile 更新个人信息）",
    tag="enrolment",
    body=ResubmitIn,
    response=EnrolmentDetail,
    secured="worker",
)
@worker_required
@idempotent
async def resubmit(request: Request, enrolment_id: int) -> HTTPResponse:
    body = parse_body(request, ResubmitIn)
    enrolment = await actions.resubmit(request.ctx.user, enrolment_id, body.note, request.ctx.actor)
    return respond(await enrolment_detail(enrolment))


@bp.post("/<enrolment_id:int>/withdraw")
@documented("撤回入会申请", tag="enrolment", response=EnrolmentDetail, secured="worker")
@worker_required
@idempotent
async def withdraw(request: Request, enrolment_id: int) -> HTTPResponse:
    enrolment = await actions.withdraw(request.ctx.user, enrolment_id, request.ctx.actor)
    return respond(await enrolment_detail(enrolment))
