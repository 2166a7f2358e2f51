"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from tortoise import connections

bp = Blueprint("health")
log = logging.getLogger("gonghui.health")

CHECK_TIMEOUT_SECONDS = 2.0


@bp.get("/healthz")
@openapi.definition(summary="进程存活检查", tag="health")
async def healthz(request: Request) -> HTTPResponse:
    return json({"status": "ok"})


async def _check(name: str, probe: Callable[[], Coroutine[Any, Any, object]]) -> tuple[str, bool]:
    try:
        # Shielded: a slow probe must not be cancelled halfway through opening a connection,
        # which can leave the database client unusable for every later request.
        await asyncio.wait_for(asyncio.shield(probe()), CHECK_TIMEOUT_SECONDS)
        return name, True
    except Exception as exc:
        log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
        return name, False


@bp.get("/readyz")
@openapi.definition(
    summary="就绪检查：数据库（及 Redis）可用时返回 200，启动中、停止中或依赖不可用时 503", tag="health"
)
async def readyz(request: Request) -> HTTPResponse:
    app = request.app
    # Not ready before startup has finished nor once shutdown began, so that a load balancer
    # sends nothing new to a process that is draining.
    results = {"serving": bool(getattr(app.ctx, "serving", False))}
    if results["serving"]:
        probes = [_check("database", lambda: connections.get("default").execute_query("SELECT 1"))]
        if app.ctx.settings.redis_url:
            probes.append(_check("redis", app.ctx.shared_state.ping))
        results.update(await asyncio.gather(*probes))
    ready = all(results.values())
    body: dict[str, Any] = {"status": "ready" if ready else "unavailable", "checks": results}
    if not ready:
        body["error"] = {"code": "service.unavailable", "message": "服务依赖暂不可用", "details": results}
    return json(body, status=200 if ready else 503, ensure_ascii=False)


@bp.get("/api/v1/openapi.json")
@openapi.exclude()
async def openapi_document(request: Request) -> HTTPResponse:
    document = SpecificationBuilder().build(request.app).serialize()
    # The schemas come from pydantic v2, which writes JSON Schema 2020-12: the dialect of
    # OpenAPI 3.1 (sanic-ext labels every document 3.0.3).
    document["openapi"] = "3.1.0"
    return json(document, ensure_ascii=False)
