"""HTTP handlers: thin Sanic blueprints that parse, authorise, call the domain and shape the
answer. No rule about enrolments, orders or requests lives here."""

from __future__ import annotations

from sanic import Sanic

from handlers import admin_audit, admin_auth, health, orgs, worker_auth


def register_blueprints(app: Sanic) -> None:
    for module in (health, worker_auth, orgs, admin_auth, admin_audit):
        app.blueprint(module.bp)
