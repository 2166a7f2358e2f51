"""GET /metrics: Prometheus' text format, for operators only (docs/OPERATIONS.md).

With `METRICS_TOKEN` set it answers a request bearing that token and no other; without it, only a
client on this machine (loopback), whose address is judged as everywhere (`server/proxy.py`), so a
request relayed by a trusted proxy counts as its real client's and is refused.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Coroutine
from ipaddress import ip_address
from typing import Any, TypeVar

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic_ext.extensions.openapi import openapi

from models.errors import Forbidden
from models.operations.figures import QueueFigures, queue_figures
from server.clock import now
from server.metrics import CONTENT_TYPE, gauges_exposition, http_exposition
from server.proxy import client_ip

bp = Blueprint("metrics")
log = logging.getLogger("gonghui.metrics")

# A scrape must answer even while the database is away: the figures then say so.
FIGURES_TIMEOUT_SECONDS = 2.0

Gauge = tuple[str, str, dict[str, str], float]


def _allowed(request: Request) -> bool:
    token = request.app.ctx.settings.metrics_token
    if token:
        scheme, _, offered = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode())
    try:
        return ip_address(client_ip(request)).is_loopback
    except ValueError:
        return False


def _queue_gauges(figures: QueueFigures) -> list[Gauge]:
    gauges: list[Gauge] = [
        ("gonghui_notification_deliveries", "Deliveries by status (pending, sending, failed)", {"status": status}, n)
        for status, n in figures.deliveries.items()
    ]
    gauges.append(
        (
            "gonghui_notification_oldest_due_seconds",
            "How long the oldest due pending delivery has waited",
            {},
            figures.oldest_due_seconds,
        )
    )
    gauges.append(("gonghui_broadcasts_open", "Broadcasts queued or fanning out", {}, figures.open_broadcasts))
    gauges.append(
        ("gonghui_broadcasts_failed", "Broadcasts whose fan-out stopped on an error", {}, figures.failed_broadcasts)
    )
    gauges += [
        (
            "gonghui_job_failures_open",
            "Items and rounds a background job set aside, not yet retried or resolved",
            {"job": job},
            n,
        )
        for job, n in sorted(figures.job_failures.items())
    ]
    gauges += [
        (
            "gonghui_sla_timers",
            "Open SLA timers at risk or breached, by case type",
            {"case_type": case_type, "state": state},
            n,
        )
        for (case_type, state), n in sorted(figures.timers.items())
    ]
    return gauges


T = TypeVar("T")


async def _within_bound(probe: Coroutine[Any, Any, T]) -> T:
    # Shielded, as the readiness probe is: cancelling a connection half-open can spoil the pool.
    return await asyncio.wait_for(asyncio.shield(probe), FIGURES_TIMEOUT_SECONDS)


@bp.get("/metrics")
@openapi.exclude()
async def metrics(request: Request) -> HTTPResponse:
    if not _allowed(request):
        raise Forbidden("metrics.forbidden", "无权读取运行指标")
    gauges: list[Gauge] = []
    try:
        figures = await _within_bound(queue_figures(now()))
        gauges += _queue_gauges(figures)
        database_up = 1.0
    except Exception as exc:
        log.warning("metrics: queue figures unavailable", extra={"error": repr(exc)})
        database_up = 0.0
    gauges.append(("gonghui_database_up", "Whether the database answered this scrape", {}, database_up))
    if request.app.ctx.settings.redis_url:
        try:
            await _within_bound(request.app.ctx.shared_state.ping())
            redis_up = 1.0
        except Exception as exc:
            log.warning("metrics: redis unavailable", extra={"error": repr(exc)})
            redis_up = 0.0
        gauges.append(("gonghui_redis_up", "Whether Redis answered this scrape", {}, redis_up))
    return raw(http_exposition() + gauges_exposition(gauges), content_type=CONTENT_TYPE)
