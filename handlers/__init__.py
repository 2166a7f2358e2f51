"""HTTP handlers: thin Sanic blueprints that parse, authorise, call the domain and shape the
answer. No rule about enrolments, orders or requests lives here.

A package per domain, mirroring `models/`, with one module per audience: `worker` (the
mini-program), `admin_api` (staff API clients), `admin_pages` (the caseworker's server-rendered
pages under /admin). No handler module imports another; what two audiences share lives in the
domain's `shapes` module, and what every page shares in `handlers/pages.py`.
"""

from __future__ import annotations

from sanic import Blueprint, Sanic

from handlers import health, metrics
from handlers.appeals import admin_api as appeals_api
from handlers.appeals import admin_pages as appeals_pages
from handlers.appeals import worker as appeals_worker
from handlers.audit import admin_api as audit_api
from handlers.audit import admin_pages as audit_pages
from handlers.auth import staff_api, staff_pages, worker
from handlers.calendar import admin_api as calendar_api
from handlers.desk import home_page, saved_filters_pages
from handlers.engagements import admin_api as engagements_api
from handlers.engagements import admin_pages as engagements_pages
from handlers.engagements import worker as engagements_worker
from handlers.enrolment import admin_api as enrolment_api
from handlers.enrolment import admin_pages as enrolment_pages
from handlers.enrolment import worker as enrolment_worker
from handlers.enterprises import admin_api as enterprises_api
from handlers.enterprises import admin_pages as enterprises_pages
from handlers.enterprises import worker as enterprises_worker
from handlers.experts import admin_api as experts_api
from handlers.experts import admin_pages as experts_pages
from handlers.experts import expert as experts_expert
from handlers.jobs import admin_api as jobs_api
from handlers.jobs import admin_pages as jobs_pages
from handlers.membership import admin_api as membership_api
from handlers.membership import admin_pages as membership_pages
from handlers.membership import worker as membership_worker
from handlers.notifications import admin_api as notifications_api
from handlers.notifications import admin_pages as notifications_pages
from handlers.notifications import wechat_callback
from handlers.notifications import worker as notifications_worker
from handlers.profiles import worker as profile_worker
from handlers.service_orders import admin_api as service_orders_api
from handlers.service_orders import admin_pages as service_orders_pages
from handlers.service_orders import expert as service_orders_expert
from handlers.service_orders import report_admin as service_order_report_admin
from handlers.service_orders import report_api as service_order_report_api
from handlers.service_orders import report_pages as service_order_report_pages
from handlers.service_orders import worker as service_orders_worker
from handlers.stations import admin_api as stations_api
from handlers.stations import admin_pages as stations_pages
from handlers.stations import worker as stations_worker
from handlers.unions import admin_api as unions_api
from handlers.unions import public as unions_public
from handlers.unions import reasons_pages as unions_reasons_pages
from handlers.unions import staff_pages as unions_staff_pages
from handlers.unions import tree_pages as unions_tree_pages
from handlers.warm_requests import admin_api as warm_requests_api
from handlers.warm_requests import admin_pages as warm_requests_pages
from handlers.warm_requests import worker as warm_requests_worker

API = (
    health,
    metrics,
    worker,
    profile_worker,
    unions_public,
    enrolment_worker,
    membership_worker,
    appeals_worker,
    notifications_worker,
    warm_requests_worker,
    stations_worker,
    enterprises_worker,
    experts_expert,
    service_orders_worker,
    service_orders_expert,
    wechat_callback,
    staff_api,
    enrolment_api,
    membership_api,
    appeals_api,
    notifications_api,
    audit_api,
    calendar_api,
    jobs_api,
    warm_requests_api,
    stations_api,
    enterprises_api,
    experts_api,
    unions_api,
    service_orders_api,
    service_order_report_api,
    service_order_report_admin,
    engagements_worker,
    engagements_api,
)
# The caseworker's admin pages: server-rendered (Jinja2 through sanic-ext), in Chinese, working
# without JavaScript for the essentials; each calls the same domain functions as the admin API
# and goes through the same guards and scope.
ADMIN_PAGES = (
    staff_pages,
    home_page,
    saved_filters_pages,
    enrolment_pages,
    membership_pages,
    appeals_pages,
    notifications_pages,
    unions_tree_pages,
    unions_staff_pages,
    audit_pages,
    jobs_pages,
    warm_requests_pages,
    enterprises_pages,
    experts_pages,
    stations_pages,
    service_orders_pages,
    service_order_report_pages,
    engagements_pages,
    unions_reasons_pages,
)


def register_blueprints(app: Sanic) -> None:
    for module in API:
        app.blueprint(module.bp)
    app.blueprint(Blueprint.group(*(module.bp for module in ADMIN_PAGES), url_prefix="/admin"))
