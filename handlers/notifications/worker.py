"""The worker's inbox and subscribe-message consent."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.errors import Invalid
from models.notifications.consent import balances, record_consent
from models.notifications.inbox import mark_all_read, mark_read
from models.notifications.tables import Notification
from server.auth.guards import worker_required
from server.http import LocalTime, PageQuery, Shape, documented, parse_body, parse_query, respond
from server.idempotency import idempotent

bp = Blueprint("notifications", url_prefix="/api/v1/me")


class InboxQuery(PageQuery):
    unread: bool | None = Field(None, description="true: 只看未读")


class InboxItem(Shape):
    id: int
    event: str
    title: str
    body: str
    page: str
    object_type: str
    object_id: str
    created_at: LocalTime
    read_at: LocalTime | None


class InboxPage(Shape):
    items: list[InboxItem]
    total: int
    unread_count: int


class ConsentIn(Shape):
    results: dict[str, Literal["accept", "reject", "ban", "filter"]] = Field(
        description="wx.requestSubscribeMessage 的返回：模板 id -> accept | reject | ban | filter", max_length=20
    )


class SubscriptionItem(Shape):
    template_id: str
    events: list[str]
    balance: int


class SubscriptionsOut(Shape):
    items: list[SubscriptionItem]


@bp.get("/inbox")
@documented(
    "站内消息：每一次状态变化，无论微信是否送达；含未读数",
    tag="inbox",
    query=InboxQuery,
    response=InboxPage,
    secured="worker",
)
@worker_required
async def inbox(request: Request) -> HTTPResponse:
    query = parse_query(request, InboxQuery)
    mine = Notification.filter(user_id=request.ctx.user.id)
    listed = mine.filter(read_at=None) if query.unread else mine
    total = await listed.count()
    items = await listed.order_by("-id").offset(query.offset).limit(query.page_size)
    unread = await mine.filter(read_at=None).count()
    return respond(
        InboxPage(items=[InboxItem.model_validate(item) for item in items], total=total, unread_count=unread)
    )


@bp.post("/inbox/<notification_id:int>/read")
@documented("标记一条消息为已读", tag="inbox", response=InboxItem, secured="worker")
@worker_required
async def read_one(request: Request, notification_id: int) -> HTTPResponse:
    return respond(InboxItem.model_validate(await mark_read(request.ctx.user.id, notification_id)))


@bp.post("/inbox/read-all")
@documented("全部标为已读", tag="inbox", secured="worker")
@worker_required
async def read_all(request: Request) -> HTTPResponse:
    return respond({"marked": await mark_all_read(request.ctx.user.id)})


async def _subscriptions(request: Request) -> SubscriptionsOut:
    wanted = request.app.ctx.templates.consent_templates()
    left = await balances(request.ctx.user.id, wanted)
    return SubscriptionsOut(
        items=[SubscriptionItem(template_id=t, events=sorted(e), balance=left.get(t, 0)) for t, e in wanted.items()]
    )


@bp.get("/subscriptions")
@documented(
    "小程序应请求授权的订阅消息模板，及每个模板剩余可发送次数", tag="inbox", response=SubscriptionsOut, secured="worker"
)
@worker_required
async def subscriptions(request: Request) -> HTTPResponse:
    return respond(await _subscriptions(request))


@bp.post("/subscriptions")
@documented(
    "上报 wx.requestSubscribeMessage 的结果：每个 accept 允许发送一条（支持 Idempotency-Key）",
    tag="inbox",
    body=ConsentIn,
    response=SubscriptionsOut,
    secured="worker",
)
@worker_required
@idempotent
async def record_subscriptions(request: Request) -> HTTPResponse:
    body = parse_body(request, ConsentIn)
    unknown = sorted(set(body.results) - set(request.app.ctx.templates.consent_templates()))
    if unknown:
        raise Invalid("subscription.unknown_template", "包含未知的订阅消息模板", {"template_ids": unknown[:10]})
    await record_consent(request.ctx.user.id, dict(body.results))
    return respond(await _subscriptions(request))
