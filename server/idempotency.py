"""`Idempotency-Key` for state-changing routes: the same key and body give the same answer, once.

The first request with a key claims it (a unique row, so a concurrent duplicate is told to wait
with 409), runs, and stores its answer; a retry with the same body gets that stored answer; the
same key with another body is refused. Server errors are not stored, so the client may retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, raw
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.errors import Conflict, DomainError, Invalid
from models.idempotency import IdempotencyRecord
from server.clock import now
from server.errors import handle_exception

Handler = Callable[..., Awaitable[HTTPResponse]]
REPLAY_HEADER = "Idempotent-Replayed"
ABANDONED_AFTER = timedelta(seconds=60)


def _principal(request: Request) -> str:
    actor = getattr(request.ctx, "actor", None)
    return f"{actor.kind}:{actor.id}" if actor else "anonymous"


async def _claim(principal: str, key: str, request: Request, body_hash: str) -> IdempotencyRecord | HTTPResponse:
    """Claim the key, or answer from the request that claimed it first."""
    for _ in range(2):
        try:
            return await IdempotencyRecord.create(
                principal=principal, key=key, method=request.method, path=request.path, body_hash=body_hash
            )
        except IntegrityError:
            earlier = await IdempotencyRecord.get_or_none(principal=principal, key=key)
        if earlier is None:  # the first request failed and let the key go: claim it again
            continue
        if earlier.body_hash != body_hash or earlier.path != request.path or earlier.method != request.method:
            raise Invalid("idempotency.key_reused", "该 Idempotency-Key 已用于另一个请求，请换一个新的")
        if earlier.status is not None:
            return raw(
                earlier.response or b"",
                status=earlier.status,
                content_type="application/json",
                headers={REPLAY_HEADER: "true"},
            )
        if now() - earlier.created_at < ABANDONED_AFTER:
            raise Conflict("idempotency.in_progress", "相同的请求正在处理中，请稍后再试")
        # Claimed by a process that died before answering: the work was never committed.
        await IdempotencyRecord.filter(id=earlier.id, status=None).delete()
    raise Conflict("idempotency.in_progress", "相同的请求正在处理中，请稍后再试")


class _Unstored(Exception):
    """Rolls back a request's work when its answer is a server error, which is never stored."""

    def __init__(self, response: HTTPResponse) -> None:
        self.response = response


def idempotent(handler: Handler) -> Handler:
    """Apply inside the auth guard, so that keys are kept per caller.

    The work and its stored answer commit in one transaction: a crash between the two cannot
    leave work done with no answer to replay, so a retry never does the work a second time.
    The domain's own transactions nest inside it as savepoints."""

    @wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        key = request.headers.get("idempotency-key", "").strip()
        if not key:
            return await handler(request, *args, **kwargs)
        if len(key) > 128:
            raise Invalid("idempotency.key_too_long", "Idempotency-Key 不能超过 128 个字符")
        body_hash = hashlib.sha256(request.body or b"").hexdigest()
        principal = _principal(request)
        record = await _claim(principal, key, request, body_hash)
        if isinstance(record, HTTPResponse):
            return record
        try:
            async with in_transaction() as connection:
                response = await _answer(handler, request, *args, **kwargs)
                if response.status >= 500:
                    raise _Unstored(response)
                stored = await (
                    IdempotencyRecord.filter(id=record.id, status=None)
                    .using_db(connection)
                    .update(status=response.status, response=(response.body or b"").decode())
                )
                if not stored:
                    # A retry took the claim over as abandoned (this request ran past
                    # ABANDONED_AFTER) and does the work itself: undo this request's work.
                    raise Conflict("idempotency.in_progress", "相同的请求正在处理中，请稍后再试")
        except _Unstored as unstored:
            await record.delete()
            return unstored.response
        except Exception:
            await record.delete()
            raise
        return response

    return wrapped


async def _answer(handler: Handler, request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
    """The handler's answer, a refusal included; a refused request's writes are undone (its
    savepoint rolls back) while the transaction stays usable for storing the refusal."""
    try:
        async with in_transaction():
            return await handler(request, *args, **kwargs)
    except DomainError as exc:
        return handle_exception(request, exc)
