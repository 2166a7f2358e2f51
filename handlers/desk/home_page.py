"""The caseworker's home: queues with counts, unread alerts, and the figures of their subtree,
satisfaction included."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.notifications.shapes import case_page
from handlers.pages import page_guard, render
from models.enrolment.queries import queue_counts, weekly_submissions
from models.kernel.permissions import Permission
from models.kernel.ratings import rating_figures, satisfaction
from models.membership.queries import subtree_figures
from models.notifications.staff_alerts import unread_alerts
from models.notifications.tables import DeliveryStatus, NotificationDelivery
from models.orgs import Org
from models.service_orders.queries import figures as service_order_figures

bp = Blueprint("admin_pages_home")

SERVICE_LABELS = {"warm_request": "暖心服务", "station_visit": "驿站服务", "service_order": "点单服务"}
ALERTS_SHOWN = 5


@bp.get("/")
@page_guard(Permission.DESK_USE)
async def home(request: Request) -> HTTPResponse:
    scope = request.ctx.scope
    org = await Org.get(id=request.ctx.staff.org_id)
    queues = await queue_counts(scope)
    queues["failed_notifications"] = await scope.restrict(
        NotificationDelivery.filter(status=DeliveryStatus.FAILED)
    ).count()
    figures = await subtree_figures(org.id)
    weekly = await weekly_submissions(scope)
    alerts = unread_alerts(scope)
    orders = (await service_order_figures(org.id))["by_status"]
    done = await satisfaction(org.id)
    return render(
        request,
        "admin/home.html",
        org=org,
        queues=queues,
        figures=figures,
        weekly=weekly,
        weekly_max=max([count for _, count in weekly] + [1]),
        orders=orders,
        notice=request.args.get("notice", ""),
        alerts=await alerts.limit(ALERTS_SHOWN),
        alert_count=await alerts.count(),
        case_page=case_page,
        order_rating=done.by_service.get("service_order"),
        satisfaction=done,
        monthly=await rating_figures(scope, org.id, months=6),
        service_labels=SERVICE_LABELS,
    )
