"""The caseworker's home, one desk for every queue: for enrolments, warm requests, service orders
and demands, what is assigned to me, unassigned in my subtree, at risk and breached (as far as
each domain has assignments and timers), each card counted by the very function of the list it
links to (handlers/desk/queues.py); then unread alerts and the figures of the subtree."""

from __future__ import annotations

from dataclasses import dataclass

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.desk.queues import APPEALS, ENROLMENTS, SERVICE_ORDERS, WARM_REQUESTS, Queue
from handlers.notifications.shapes import case_page
from handlers.pages import page_guard, render
from models.desk.saved_filters import saved_by
from models.enrolment.queries import weekly_submissions
from models.kernel.permissions import Permission, may
from models.kernel.ratings import rating_figures, satisfaction
from models.membership.queries import subtree_figures
from models.notifications.staff_alerts import unread_alerts
from models.notifications.tables import DeliveryStatus, NotificationDelivery
from models.orgs import Org
from server.clock import now

bp = Blueprint("admin_pages_home")

SERVICE_LABELS = {"warm_request": "暖心服务", "station_visit": "驿站服务", "service_order": "点单服务"}
ALERTS_SHOWN = 5


@dataclass(frozen=True)
class Card:
    label: str
    queue: Queue
    args: dict[str, str]
    tone: str = ""  # how a non-zero count is shown: "" (plain), "warn" or "bad"


@dataclass(frozen=True)
class Section:
    label: str
    permission: Permission
    cards: tuple[Card, ...]


# Enrolments have no assignee and no timer: their queues are pending and overdue. Service orders
# and demands are the union's, not a caseworker's: no "assigned to me".
DESK = (
    Section(
        "入会申请",
        Permission.ENROLMENTS_READ,
        (
            Card("待审核入会申请", ENROLMENTS, {"queue": "pending", "sort": "submitted_at"}),
            Card("超过 3 天未审核", ENROLMENTS, {"queue": "overdue", "sort": "submitted_at"}, "warn"),
        ),
    ),
    Section(
        "暖心服务",
        Permission.WARM_REQUESTS_READ,
        (
            Card("交给我办理的求助", WARM_REQUESTS, {"assignee": "me", "status": "open"}),
            Card("本辖区未分派的求助", WARM_REQUESTS, {"assignee": "none", "status": "open"}, "warn"),
            Card("即将超时的求助", WARM_REQUESTS, {"sla": "at_risk"}, "warn"),
            Card("已超时的求助", WARM_REQUESTS, {"sla": "breached"}, "bad"),
        ),
    ),
    Section(
        "企业点单",
        Permission.SERVICE_ORDERS_READ,
        (
            Card("待派单的点单", SERVICE_ORDERS, {"queue": "dispatch"}, "warn"),
            Card("临近截止的点单", SERVICE_ORDERS, {"deadline": "at_risk"}, "warn"),
            Card("已逾期的点单", SERVICE_ORDERS, {"deadline": "breached"}, "bad"),
        ),
    ),
    Section("职工诉求", Permission.APPEALS_READ, (Card("待答复的职工诉求", APPEALS, {"status": "submitted"}, "warn"),)),
)


async def desk_cards(request: Request) -> list[dict[str, object]]:
    """The desk's sections the caseworker may read, each card with its count and its list."""
    moment = now()
    shown = []
    for section in DESK:
        if not may(request.ctx.staff, section.permission):
            continue
        cards = [
            {
                "label": card.label,
                "url": card.queue.url(card.args),
                "count": await (await card.queue.rows(request, card.args, moment)).count(),
                "tone": card.tone,
            }
            for card in section.cards
        ]
        shown.append({"label": section.label, "cards": cards})
    return shown


@bp.get("/")
@page_guard(Permission.DESK_USE)
async def home(request: Request) -> HTTPResponse:
    scope = request.ctx.scope
    org = await Org.get(id=request.ctx.staff.org_id)
    failed_notifications = await scope.restrict(NotificationDelivery.filter(status=DeliveryStatus.FAILED)).count()
    figures = await subtree_figures(org.id)
    weekly = await weekly_submissions(scope)
    alerts = unread_alerts(scope)
    done = await satisfaction(org.id)
    return render(
        request,
        "admin/home.html",
        org=org,
        desk=await desk_cards(request),
        saved=await saved_by(request.ctx.staff),
        failed_notifications=failed_notifications,
        figures=figures,
        weekly=weekly,
        weekly_max=max([count for _, count in weekly] + [1]),
        notice=request.args.get("notice", ""),
        alerts=await alerts.limit(ALERTS_SHOWN),
        alert_count=await alerts.count(),
        case_page=case_page,
        order_rating=done.by_service.get("service_order"),
        satisfaction=done,
        monthly=await rating_figures(scope, org.id, months=6),
        service_labels=SERVICE_LABELS,
    )
