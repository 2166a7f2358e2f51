"""The delivery log with resend, broadcasts with preview and progress, and the desk's alerts."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, redirect

from handlers.notifications.shapes import case_page
from handlers.pages import args_of, form_value, listing, optional_int, page_guard, render
from models.accounts import staff_names
from models.enterprises.tables import EnterpriseContact
from models.errors import DomainError
from models.experts.tables import Expert
from models.kernel.permissions import Permission
from models.notifications.broadcasts import audience_size, broadcast_progress, create_broadcast
from models.notifications.delivery import resend
from models.notifications.outcomes import explain, resend_helps
from models.notifications.staff_alerts import mark_alert_read, unread_alerts
from models.notifications.tables import (
    BROADCAST_STATUS_LABELS,
    DELIVERY_STATUS_LABELS,
    Broadcast,
    DeliveryStatus,
    NotificationDelivery,
)
from models.orgs import Org, org_names
from models.profiles.actions import real_names
from server.clock import now

bp = Blueprint("admin_pages_notifications")


async def recipient_names(user_ids: Iterable[int]) -> dict[int, str]:
    """Who a message went to, by name: a worker by their profile, an expert by the roster, an
    enterprise's contact by their enterprise."""
    wanted = set(user_ids)
    names = await real_names(wanted)
    if rest := wanted - names.keys():
        names |= dict(await Expert.filter(user_id__in=rest).values_list("user_id", "name"))
    if rest := wanted - names.keys():
        contacts = await EnterpriseContact.filter(user_id__in=rest).values_list("user_id", "enterprise__name")
        names |= {user_id: f"{enterprise}联系人" for user_id, enterprise in contacts}
    return names


@bp.get("/notifications")
@page_guard(Permission.NOTIFICATIONS_READ)
async def delivery_log(request: Request) -> HTTPResponse:
    chosen = args_of(request, ("status", "event", "broadcast"))
    query = request.ctx.scope.restrict(NotificationDelivery.all())
    if chosen["status"] in {s.value for s in DeliveryStatus}:
        query = query.filter(status=chosen["status"])
    if chosen["event"]:
        query = query.filter(notification__event=chosen["event"])
    if broadcast_id := optional_int(chosen["broadcast"]):
        query = query.filter(notification__broadcast_id=broadcast_id)
    page_of = await listing(request, query.order_by("-id").prefetch_related("notification"))
    deliveries = page_of["items"]
    return render(
        request,
        "admin/notifications.html",
        **page_of,
        names=await recipient_names(d.notification.user_id for d in deliveries),
        explained={d.id: explain(d.last_errcode, d.last_error) for d in deliveries},
        resendable={d.id for d in deliveries if resend_helps(d)},
        chosen=chosen,
        status_labels=DELIVERY_STATUS_LABELS,
        statuses=list(DeliveryStatus),
        notice=request.args.get("notice", ""),
        why=request.args.get("why", "")[:200],
    )


@bp.post("/notifications/<delivery_id:int>/resend")
@page_guard(Permission.NOTIFICATIONS_RESEND)
async def resend_delivery(request: Request, delivery_id: int) -> HTTPResponse:
    try:
        await resend(request.ctx.scope, delivery_id, request.ctx.actor)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/admin/notifications?{urlencode({'notice': exc.code, 'why': exc.message})}")
    return redirect("/admin/notifications?notice=resent")


async def _orgs_in_scope(request: Request) -> list[Org]:
    return await request.ctx.scope.restrict(Org.all()).order_by("depth", "id").limit(500)


@bp.get("/broadcasts/new")
@page_guard(Permission.BROADCASTS_SEND)
async def broadcast_form(request: Request) -> HTTPResponse:
    return render(request, "admin/broadcast_form.html", orgs=await _orgs_in_scope(request), values={})


@bp.post("/broadcasts/new")
@page_guard(Permission.BROADCASTS_SEND)
async def broadcast_submit(request: Request) -> HTTPResponse:
    values = {name: form_value(request, name) for name in ("org_id", "title", "body", "gig_only")}
    orgs = await _orgs_in_scope(request)
    if form_value(request, "confirm") != "yes":
        org = next((o for o in orgs if str(o.id) == values["org_id"]), None)
        reach = await audience_size(request.ctx.scope, org.id, values["gig_only"] == "on") if org else 0
        return render(
            request,
            "admin/broadcast_form.html",
            orgs=orgs,
            values=values,
            preview=True,
            preview_org=org,
            preview_count=reach,
        )
    try:
        broadcast = await create_broadcast(
            request.ctx.scope,
            optional_int(values["org_id"]) or 0,
            values["title"][:40],
            values["body"][:500],
            values["gig_only"] == "on",
            request.ctx.actor,
        )
    except DomainError as exc:
        return render(
            request, "admin/broadcast_form.html", status=exc.status, orgs=orgs, values=values, error=exc.message
        )
    return redirect(f"/admin/broadcasts/{broadcast.id}")


@bp.get("/broadcasts")
@page_guard(Permission.NOTIFICATIONS_READ)
async def broadcast_list(request: Request) -> HTTPResponse:
    """Past broadcasts of the subtree, newest first, each linking to its progress page."""
    page_of = await listing(request, request.ctx.scope.restrict(Broadcast.all()).order_by("-id"))
    broadcasts = page_of["items"]
    names = await org_names({b.org_id for b in broadcasts})
    return render(
        request,
        "admin/broadcasts.html",
        **page_of,
        org_names=names,
        senders=await staff_names(b.created_by_id for b in broadcasts),
        broadcast_labels=BROADCAST_STATUS_LABELS,
    )


@bp.get("/broadcasts/<broadcast_id:int>")
@page_guard(Permission.NOTIFICATIONS_READ)
async def broadcast_detail(request: Request, broadcast_id: int) -> HTTPResponse:
    broadcast = await request.ctx.scope.get(Broadcast.all(), id=broadcast_id)
    progress = await broadcast_progress(broadcast)
    if request.args.get("format") == "json":
        return json(
            {
                "status": broadcast.status.value,
                "status_label": BROADCAST_STATUS_LABELS[broadcast.status],
                "error": broadcast.error,
                "recipients": broadcast.recipients,
                "progress": progress,
            }
        )
    org = await Org.get(id=broadcast.org_id)
    return render(
        request,
        "admin/broadcast_detail.html",
        broadcast=broadcast,
        org=org,
        progress=progress,
        status_labels=DELIVERY_STATUS_LABELS,
        broadcast_labels=BROADCAST_STATUS_LABELS,
    )


@bp.get("/alerts")
@page_guard(Permission.DESK_USE)
async def alert_list(request: Request) -> HTTPResponse:
    page_of = await listing(request, unread_alerts(request.ctx.scope))
    names = await org_names({a.org_id for a in page_of["items"]})
    return render(request, "admin/alerts.html", **page_of, org_names=names, case_page=case_page)


@bp.post("/alerts/<alert_id:int>/read")
@page_guard(Permission.DESK_USE)
async def read_alert(request: Request, alert_id: int) -> HTTPResponse:
    await mark_alert_read(request.ctx.scope, alert_id, request.ctx.actor, now())
    back = form_value(request, "back", "/admin/alerts")
    return redirect(back if back.startswith("/admin/") else "/admin/alerts")
