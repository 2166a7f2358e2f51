"""The caseworker's home: queues with counts, and the figures of their subtree."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.pages import page_guard, render
from models.enrolment.queries import queue_counts, weekly_submissions
from models.kernel.permissions import Permission
from models.kernel.ratings import satisfaction
from models.membership.queries import subtree_figures
from models.notifications.tables import DeliveryStatus, NotificationDelivery
from models.orgs import Org
from models.service_orders.queries import figures as service_order_figures

bp = Blueprint("admin_pages_home")


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
    orders = (await service_order_figures(org.id))["by_status"]
    return render(
        request,
        "admin/home.html",
        org=org,
        queues=queues,
        figures=figures,
        weekly=weekly,
        weekly_max=max([count for _, count in weekly] + [1]),
        orders=orders,
        order_rating=(await satisfaction(org.id)).by_service.get("service_order"),
        notice=request.args.get("notice", ""),
    )
