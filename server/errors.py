"""Every failure leaves the server in the contract's shape:
`{"error": {"code": "dotted.code", "message": "中文说明", "details": {...}}}`.

Domain errors carry their own code and status; Sanic's own exceptions (unknown route, wrong
method, oversized or malformed body) and pydantic validation errors are translated here, and so
is a value the database refuses to store or compare (too long, out of range, an impossible date):
the shapes bound their fields so that this should not happen, and when one is missed the caller
still gets a 422, not a 500. Anything else is logged with its traceback and answered as a plain
500 that reveals nothing.
"""

from __future__ import annotations

import logging
import sqlite3
from json import loads as json_loads
from typing import Any

import asyncpg
from asyncpg.exceptions import _base as asyncpg_base
from pydantic import ValidationError
from redis.exceptions import RedisError
from sanic import Request, Sanic
from sanic.exceptions import (
    BadRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    SanicException,
)
from sanic.exceptions import (
    NotFound as RouteNotFound,
)
from sanic.response import HTTPResponse, json
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError
from tortoise.exceptions import ValidationError as FieldValueError

from handlers.pages import render
from models.errors import DomainError
from server.auth.guards import identify_staff
from server.postgres_backend import DatabaseBusy
from server.shared_state import LockNotAcquired

log = logging.getLogger("gonghui.errors")


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return json(body, status=status, headers=headers, ensure_ascii=False)


def validation_details(exc: ValidationError) -> dict[str, Any]:
    return {
        "fields": [
            {
                "field": ".".join(str(part) for part in err["loc"]) or "body",
                "type": err["type"],
                "message": err["msg"],
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
    }


_SANIC_ERRORS: list[tuple[type[SanicException], int, str, str]] = [
    (RouteNotFound, 404, "route.not_found", "请求的地址不存在"),
    (MethodNotAllowed, 405, "route.method_not_allowed", "该地址不支持此请求方法"),
    (PayloadTooLarge, 413, "request.too_large", "请求内容过大"),
    (BadRequest, 400, "request.malformed", "请求格式有误"),
]


def refused_by_database(exc: Exception) -> bool:
    """Whether the database (or its driver) refused a value the request carried: a string longer
    than its column, a number out of range, a date it cannot represent, a character it cannot
    store (SQLSTATE class 22, "data exception")."""
    if isinstance(exc, OperationalError) and exc.__cause__ is not None:
        exc = exc.__cause__  # type: ignore[assignment]
    # asyncpg's own DataError is raised client-side before a value is sent (an int beyond int64).
    return isinstance(exc, FieldValueError | asyncpg.DataError | asyncpg_base.DataError | OverflowError)


def unavailable(exc: BaseException) -> tuple[str, str] | None:
    """Whether a dependency, not the request, failed: the database or Redis away (restarting,
    unreachable, shutting down) or too busy to answer in time. Those are a 503 the client may
    retry, never a 500; the answer is (code, message), or None for anything else."""
    while isinstance(exc, OperationalError | TransactionManagementError) and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, DatabaseBusy | TimeoutError | LockNotAcquired) or (
        isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
    ):
        return "service.busy", "服务繁忙，请稍后再试"
    if isinstance(
        exc,
        RedisError
        | DBConnectionError
        | ConnectionError  # refused or reset, by PostgreSQL or Redis
        | asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError  # shutting down, starting up
        | asyncpg.exceptions.InsufficientResourcesError  # too many connections
        | asyncpg.InterfaceError  # a connection closed under the request
        | asyncpg_base.InternalClientError,  # a connection left mid-operation as the server went away
    ):
        return "service.unavailable", "服务暂时不可用，请稍后再试"
    return None


RETRY_AFTER_SECONDS = {"service.busy": "2", "service.unavailable": "5"}


async def _admin_page(request: Request, status: int, message: str, headers: dict[str, str]) -> HTTPResponse:
    """People at the admin pages get a page, not JSON (with the same headers: Allow, Retry-After),
    with the top bar naming who they are, whichever error it is (a 403 or an unknown address is
    raised before any page guard has looked at the session)."""
    try:
        await identify_staff(request)
    except Exception:  # the error may be the database itself: show the page without the top bar
        log.warning("staff not identified for an error page", extra={"path": request.path}, exc_info=True)
    response = render(request, "admin/error.html", status=status, error_status=status, message=message)
    response.headers.update(headers)
    return response


async def _handle_any(request: Request, exc: Exception) -> HTTPResponse:
    response = handle_exception(request, exc)
    if request.path.startswith("/admin") and not request.path.startswith("/admin/static"):
        error = json_loads(response.body)["error"]
        message = "页面不存在，或不在您的管辖范围内" if response.status == 404 else error["message"]
        kept = {name: value for name, value in response.headers.items() if name.lower() in ("allow", "retry-after")}
        return await _admin_page(request, response.status, message, kept)
    return response


def handle_exception(request: Request, exc: Exception) -> HTTPResponse:
    """The contract's JSON answer for any exception (the idempotent handlers' stored answer too)."""
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.details["retry_after"])} if "retry_after" in exc.details else None
        return error_response(exc.status, exc.code, exc.message, exc.details, headers)
    outage = unavailable(exc)
    if outage is not None:
        code, message = outage
        log.warning("dependency unavailable", extra={"path": request.path, "error": repr(exc)})
        return error_response(503, code, message, headers={"Retry-After": RETRY_AFTER_SECONDS[code]})
    if isinstance(exc, ValidationError):
        return error_response(422, "request.invalid", "请求参数不符合要求", validation_details(exc))
    if refused_by_database(exc):
        log.warning("value refused by the database", extra={"path": request.path, "error": repr(exc)})
        return error_response(422, "request.invalid", "请求参数超出允许的范围")
    for kind, status, code, message in _SANIC_ERRORS:
        if isinstance(exc, kind):
            # Keep what Sanic says alongside, such as the `Allow` header of a 405.
            return error_response(status, code, message, headers=dict(exc.headers) or None)
    if isinstance(exc, SanicException) and exc.status_code < 500:
        return error_response(exc.status_code, "request.rejected", "请求未被接受")
    log.exception("unhandled error", extra={"path": request.path})
    return error_response(500, "server.error", "服务器内部错误，请稍后再试")


def register_error_handlers(app: Sanic) -> None:
    app.error_handler.add(Exception, _handle_any)
