"""The caseworker's admin pages: server-rendered (Jinja2 through sanic-ext), in Chinese, working
without JavaScript for the essentials. Each page calls the same domain functions as the admin
API and goes through the same guards and scope."""

from __future__ import annotations

from sanic import Blueprint

from handlers.admin_pages import accounts, audit, enrolments, home, jobs, members, notifications, session, tree

bp = Blueprint.group(
    session.bp,
    home.bp,
    enrolments.bp,
    members.bp,
    notifications.bp,
    tree.bp,
    accounts.bp,
    audit.bp,
    jobs.bp,
    url_prefix="/admin",
)
