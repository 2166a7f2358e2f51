"""HTTP handlers: thin Sanic blueprints that parse, authorise, call the domain and shape the
answer. No rule about enrolments, orders or requests lives here."""

from __future__ import annotations

from sanic import Sanic

from handlers import (
    admin_audit,
    admin_auth,
    admin_enrolment,
    admin_jobs,
    admin_membership,
    admin_notifications,
    admin_pages,
    enrolment,
    health,
    membership,
    notifications,
    orgs,
    profile,
    wechat_callback,
    worker_auth,
)


def register_blueprints(app: Sanic) -> None:
    for module in (
        health,
        worker_auth,
        profile,
        orgs,
        enrolment,
        membership,
        notifications,
        wechat_callback,
        admin_auth,
        admin_enrolment,
        admin_membership,
        admin_notifications,
        admin_jobs,
        admin_audit,
    ):
        app.blueprint(module.bp)
    app.blueprint(admin_pages.bp)
