"""The delivery log, resending, broadcasts, and the desk's alerts, for staff within their subtree."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.notifications.shapes import AlertOut, alert_out
from models.kernel.permissions import Permission
from models.notifications.broadcasts import broadcast_progress, create_broadcast
from models.notifications.delivery import resend
from models.notifications.staff_alerts import mark_alert_read, unread_alerts
from models.notifications.tables import (
    DELIVERY_STATUS_LABELS,
    Broadcast,
    BroadcastStatus,
    Channel,
    DeliveryStatus,
    NotificationDelivery,
)
from server.auth.guards import staff_required
from server.clock import now
from server.http import DbId, LocalTime, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_notifications", url_prefix="/api/v1/admin")


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None
    channel: Channel | None = None
    event: str | None = Field(None, max_length=48)
    user_id: DbId | None = None


class DeliveryOut(Shape):
    id: int
    notification_id: int
    user_id: int
    event: str
    title: str
    channel: Channel
    status: DeliveryStatus
    status_label: str
    attempts: int
    template_id: str
    last_errcode: int | None
    last_error: str
    msgid: str
    org_id: int | None
    created_at: LocalTime
    due_at: LocalTime
    finished_at: LocalTime | None


class DeliveryPage(Shape):
    items: list[DeliveryOut]
    total: int


class BroadcastIn(Shape):
    org_id: DbId
    title: str = Field(min_length=1, max_length=40)
    body: str = Field(min_length=1, max_length=500)
    gig_only: bool = False


class BroadcastOut(Shape):
    id: int
    org_id: int
    title: str
    body: str
    gig_only: bool
    status: BroadcastStatus
    error: str | None = Field(None, description="生成中断的原因（status 为 failed 时）")
    recipients: int
    progress: dict[str, int]
    created_at: LocalTime


def delivery_out(delivery: NotificationDelivery) -> DeliveryOut:
    notification = delivery.notification
    return DeliveryOut(
        id=delivery.id,
        notification_id=notification.id,
        user_id=notification.user_id,
        event=notification.event,
        title=notification.title,
        channel=delivery.channel,
        status=delivery.status,
        status_label=DELIVERY_STATUS_LABELS[delivery.status],
        attempts=delivery.attempts,
        template_id=delivery.template_id,
        last_errcode=delivery.last_errcode,
        last_error=delivery.last_error,
        msgid=delivery.msgid,
        org_id=delivery.org_id,
        created_at=delivery.created_at,
        due_at=delivery.due_at,
        finished_at=delivery.finished_at,
    )


async def broadcast_out(broadcast: Broadcast) -> BroadcastOut:
    return BroadcastOut(
        id=broadcast.id,
        org_id=broadcast.org_id,
        title=broadcast.title,
        body=broadcast.body,
        gig_only=broadcast.gig_only,
        status=broadcast.status,
        error=broadcast.error,
        recipients=broadcast.recipients,
        progress=await broadcast_progress(broadcast),
        created_at=broadcast.created_at,
    )


@bp.get("/notifications")
@documented(
    "消息发送记录（本级及下级）：状态、渠道、错误原因",
    tag="admin-notifications",
    query=DeliveryQuery,
    response=DeliveryPage,
    secured="staff",
)
@staff_required(Permission.NOTIFICATIONS_READ)
async def delivery_log(request: Request) -> HTTPResponse:
    query = parse_query(request, DeliveryQuery)
    deliveries = request.ctx.scope.restrict(NotificationDelivery.all())
    filters = {
        "status": query.status,
        "channel": query.channel,
        "notification__event": query.event,
        "notification__user_id": query.user_id,
    }
    deliveries = deliveries.filter(**{key: value for key, value in filters.items() if value is not None})
    total = await deliveries.count()
    page = await deliveries.order_by("-id").offset(query.offset).limit(query.page_size).prefetch_related("notification")
    return respond(DeliveryPage(items=[delivery_out(item) for item in page], total=total))


@bp.post("/notifications/<delivery_id:int>/resend")
@documented("重发一条发送失败或未发送的消息", tag="admin-notifications", response=DeliveryOut, secured="staff")
@staff_required(Permission.NOTIFICATIONS_RESEND)
async def resend_delivery(request: Request, delivery_id: int) -> HTTPResponse:
    delivery = await resend(request.ctx.scope, delivery_id, request.ctx.actor)
    await delivery.fetch_related("notification")
    return respond(delivery_out(delivery))


@bp.post("/broadcasts")
@documented(
    "向本级或下级组织的全体会员（或仅新就业形态会员）发送通知",
    tag="admin-notifications",
    body=BroadcastIn,
    response=BroadcastOut,
    status=201,
    secured="staff",
)
@staff_required(Permission.BROADCASTS_SEND)
async def new_broadcast(request: Request) -> HTTPResponse:
    body = parse_body(request, BroadcastIn)
    broadcast = await create_broadcast(
        request.ctx.scope, body.org_id, body.title, body.body, body.gig_only, request.ctx.actor
    )
    return respond(await broadcast_out(broadcast), status=201)


@bp.get("/broadcasts/<broadcast_id:int>")
@documented("通知发送进度", tag="admin-notifications", response=BroadcastOut, secured="staff")
@staff_required(Permission.NOTIFICATIONS_READ)
async def broadcast_detail(request: Request, broadcast_id: int) -> HTTPResponse:
    broadcast = await request.ctx.scope.get(Broadcast.all(), id=broadcast_id)
    return respond(await broadcast_out(broadcast))


class AlertPage(Shape):
    items: list[AlertOut]
    total: int


@bp.get("/alerts")
@documented(
    "未读提醒（本级及下级工会），最新的在前",
    tag="admin-notifications",
    query=PageQuery,
    response=AlertPage,
    secured="staff",
)
@staff_required(Permission.DESK_USE)
async def list_alerts(request: Request) -> HTTPResponse:
    page = parse_query(request, PageQuery)
    query = unread_alerts(request.ctx.scope)
    items = await query.offset(page.offset).limit(page.page_size)
    return respond(AlertPage(items=[alert_out(alert) for alert in items], total=await query.count()))


@bp.post("/alerts/<alert_id:int>/read")
@documented("标记提醒为已读（同一工会的人都不再看到）", tag="admin-notifications", response=AlertOut, secured="staff")
@staff_required(Permission.DESK_USE)
async def read_alert(request: Request, alert_id: int) -> HTTPResponse:
    alert = await mark_alert_read(request.ctx.scope, alert_id, request.ctx.actor, now())
    return respond(alert_out(alert))
