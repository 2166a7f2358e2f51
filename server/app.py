"""The application factory: settings in, a configured Sanic app out."""

from __future__ import annotations

import gc
import logging
import time
import uuid
from datetime import datetime
from pathlib import Path

from markupsafe import Markup
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic_ext import Extend
from sanic_ext.extensions.http.extension import HTTPExtension
from sanic_ext.extensions.openapi.extension import OpenAPIExtension
from sanic_ext.extensions.templating.extension import TemplatingExtension
from tortoise import connections
from tortoise.contrib.sanic import register_tortoise

from handlers import register_blueprints
from models.kernel.permissions import Permission, may
from server.auth.rate_limits import RateLimits
from server.auth.tokens import TokenService
from server.clock import SHANGHAI
from server.crypto import CardSigner, IdCipher
from server.db import tortoise_config
from server.errors import register_error_handlers
from server.http import add_security_schemes
from server.input_guard import guard_input
from server.logging_setup import configure_logging, request_id_var
from server.metrics import install as install_metrics
from server.pg_backend import request_connection
from server.settings import Settings, load_settings
from server.shared_state import connect_shared_state
from server.wechat.gateway import WeChatGateway
from server.wechat.templates import TemplateBook, parse_templates

access_log = logging.getLogger("gonghui.access")


def _request_id(request: Request) -> str:
    offered = request.headers.get("x-request-id", "")
    if 8 <= len(offered) <= 64 and offered.replace("-", "").isalnum():
        return offered
    return uuid.uuid4().hex


def local_time(value: datetime | None) -> Markup:
    """How times read on the admin pages: Asia/Shanghai, to the minute, never broken across lines
    (a narrow column would split "2026-11-30" at its hyphens)."""
    if not value:
        return Markup("")
    return Markup('<span class="nowrap">{}</span>').format(value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))


class Gonghui(Sanic):
    async def handle_request(self, request: Request) -> None:  # type: ignore[override]
        # Sanic calls this for each request (answer sent included): its statements share one
        # pool connection, given back when it ends, however it ends (server/pg_backend.py).
        async with request_connection():
            await super().handle_request(request)


def create_app(settings: Settings | None = None) -> Sanic:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    app = Gonghui("gonghui", configure_logging=False)
    app.config.update(
        {
            "REQUEST_MAX_SIZE": settings.max_body_bytes,
            "FALLBACK_ERROR_FORMAT": "json",
            "ACCESS_LOG": False,
            # sanic-ext leaves routes under its own prefix out of the document, so its pages live
            # under /api/v1/docs; handlers/health.py serves the document at /api/v1/openapi.json.
            "OAS_URL_PREFIX": "/api/v1/docs",
            "OAS_URI_TO_JSON": "/openapi.json",
            # Our own docs page in place of ReDoc and Swagger UI, which load their scripts from a
            # CDN that a union intranet cannot reach.
            "OAS_UI_REDOC": True,
            "OAS_URI_TO_REDOC": "/page",
            "OAS_PATH_TO_REDOC_HTML": str(Path(__file__).parent / "templates" / "api-docs.html"),
            "OAS_UI_SWAGGER": False,
            "OAS_UI_DEFAULT": "redoc",
            "TEMPLATING_PATH_TO_TEMPLATES": str(Path(__file__).parent / "templates"),
            "TEMPLATING_ENABLE_ASYNC": False,
            "HEALTH": False,
            "CORS": False,
            # sanic-ext adds a HEAD and an OPTIONS route beside each route at startup, one router
            # rebuild at a time: 9 of a worker's 14 s of startup on 2 busy cores, enough for
            # Sanic's manager (WORKERS>1) to give up on its workers after 30 s. Without CORS no
            # client needs OPTIONS, and no client of ours sends HEAD (it is answered 405).
            "HTTP_AUTO_HEAD": False,
            "HTTP_AUTO_OPTIONS": False,
            # On SIGTERM: stop accepting, let requests in flight finish for up to this, then exit.
            "GRACEFUL_SHUTDOWN_TIMEOUT": settings.graceful_shutdown_seconds,
        }
    )
    app.ctx.settings = settings
    # Only the extensions we use: sanic-ext's dependency injection, which we do not use, would
    # add a routing signal that every request dispatches (about 2 % of a short request's CPU).
    Extend(app, built_in_extensions=False, extensions=[OpenAPIExtension, HTTPExtension, TemplatingExtension])
    app.ext.openapi.describe(
        "Gonghui API",
        version="1.0.0",
        description='工会服务小程序与管理后台的接口。错误一律为 {"error": {"code", "message", "details"}}。',
    )
    add_security_schemes(app)
    register_tortoise(app, config=tortoise_config(settings))
    register_error_handlers(app)
    register_blueprints(app)
    install_metrics(app)
    app.static("/admin/static", Path(__file__).parent / "static", name="admin_static")
    environment = app.ext.environment
    environment.filters["local"] = local_time
    # Pages show what a staff member may do by the same permission table the guards use.
    environment.globals["may"] = lambda staff, name: may(staff, Permission(name))
    environment.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}

    @app.before_server_start
    async def open_services(app: Sanic) -> None:
        try:
            # Open the database connection now rather than inside the first request.
            await connections.get("default").execute_query("SELECT 1")
        except Exception as exc:
            logging.getLogger("gonghui.startup").warning("database not reachable at start", extra={"error": repr(exc)})
        app.ctx.shared_state = connect_shared_state(settings.redis_url, settings.redis_prefix)
        app.ctx.tokens = TokenService(settings.secret_key)
        app.ctx.cipher = IdCipher(settings.id_encryption_keys, settings.id_blind_index_key)
        app.ctx.card_signer = CardSigner(settings.member_card_signing_key)
        app.ctx.limits = RateLimits(app.ctx.shared_state, settings)
        app.ctx.wechat = WeChatGateway(
            appid=settings.wechat_miniprogram_appid,
            secret=settings.wechat_miniprogram_secret,
            api_base_url=settings.wechat_api_base_url,
            state=app.ctx.shared_state,
            timeout=settings.wechat_timeout_seconds,
            connections=settings.wechat_connections,
        )

        app.ctx.official = WeChatGateway(
            appid=settings.wechat_official_appid,
            secret=settings.wechat_official_secret,
            api_base_url=settings.wechat_api_base_url,
            state=app.ctx.shared_state,
            timeout=settings.wechat_timeout_seconds,
            connections=4,
        )
        app.ctx.templates = TemplateBook(parse_templates(settings.notification_templates))

    @app.after_server_start
    async def start_serving(app: Sanic) -> None:
        # What startup built (routes, models, templates, OpenAPI) lives as long as the process:
        # out of the collector's sight, a full collection under load walks only what requests
        # made, which shortens the pauses that every request in flight waits out.
        gc.freeze()
        app.ctx.serving = True

    @app.before_server_stop
    async def stop_serving(app: Sanic) -> None:
        app.ctx.serving = False

    @app.after_server_stop
    async def close_services(app: Sanic) -> None:
        await app.ctx.wechat.close()
        await app.ctx.official.close()
        await app.ctx.shared_state.close()

    @app.on_request
    async def start_request(request: Request) -> None:
        request.ctx.request_id = _request_id(request)
        request.ctx.started = time.perf_counter()
        request_id_var.set(request.ctx.request_id)
        guard_input(request)

    @app.on_response
    async def finish_request(request: Request, response: HTTPResponse) -> None:
        request_id = getattr(request.ctx, "request_id", None) or _request_id(request)
        response.headers["X-Request-ID"] = request_id
        if not request.path.startswith("/admin/static"):
            # Answers carry tokens, personal data and revealed ID numbers: never cached anywhere.
            response.headers["Cache-Control"] = "no-store"
        if request.path.startswith("/admin") and not request.path.startswith("/admin/static"):
            # Pages with one-click approvals and revealed ID numbers: never framed.
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        started = getattr(request.ctx, "started", None)
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            },
        )

    return app
