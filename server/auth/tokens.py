"""Bearer tokens: signed (HS256 JWT), expiring, and revocable through their `AuthSession`.

The signature lets the server turn away forged tokens without touching the database; the
session row is what makes logout and account disabling take effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from models.accounts import AuthSession, StaffAccount, SubjectKind, User
from models.errors import Forbidden, Unauthorized
from models.prepared import PreparedGet
from server.clock import now

_ALGORITHM = "HS256"
_VERIFIED_KEPT = 10_000
_SESSION_WITH = {
    SubjectKind.USER: PreparedGet(AuthSession, "id", "user"),
    SubjectKind.STAFF: PreparedGet(AuthSession, "id", "staff"),
}


@dataclass(frozen=True)
class IssuedToken:
    token: str
    session: AuthSession
    expires_in: int


@dataclass(frozen=True)
class Authenticated:
    session: AuthSession
    user: User | None
    staff: StaffAccount | None


class TokenService:
    def __init__(self, secret_key: str) -> None:
        self._key = secret_key
        # Tokens whose signature was checked, with their claims: checking costs ~45 µs of CPU, and
        # a caller sends the same token with every request. Only the signature is remembered;
        # expiry is checked every time, and the session row below on every request.
        self._verified: dict[str, dict[str, Any]] = {}

    async def issue(
        self,
        kind: SubjectKind,
        subject_id: int,
        ttl_seconds: int,
        *,
        ip: str = "",
        user_agent: str = "",
    ) -> IssuedToken:
        issued_at = now()
        expires_at = issued_at + timedelta(seconds=ttl_seconds)
        session = await AuthSession.create(
            id=uuid.uuid4(),
            subject_kind=kind,
            user_id=subject_id if kind == SubjectKind.USER else None,
            staff_id=subject_id if kind == SubjectKind.STAFF else None,
            expires_at=expires_at,
            ip=ip[:64],
            user_agent=user_agent[:255],
        )
        claims = {
            "sid": str(session.id),
            "sub": str(subject_id),
            "knd": kind.value,
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        return IssuedToken(jwt.encode(claims, self._key, algorithm=_ALGORITHM), session, ttl_seconds)

    async def authenticate(self, token: str, kind: SubjectKind) -> Authenticated:
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token, self._key, algorithms=[_ALGORITHM], options={"require": ["exp", "sid", "knd"]}
                )
            except jwt.ExpiredSignatureError:
                raise Unauthorized("auth.token_expired", "登录已过期，请重新登录") from None
            except jwt.InvalidTokenError:
                raise Unauthorized("auth.invalid_token", "登录凭证无效，请重新登录") from None
            if len(self._verified) >= _VERIFIED_KEPT:
                self._verified.clear()
            self._verified[token] = claims
        elif claims["exp"] <= now().timestamp():
            raise Unauthorized("auth.token_expired", "登录已过期，请重新登录")
        if claims["knd"] != kind.value:
            # Our own valid token, of the other kind: the caller is known and not allowed here.
            # A 401 would make a mini-program throw away a good login.
            raise Forbidden("auth.wrong_account_kind", "当前登录账号无权访问此功能")
        try:
            session_id = uuid.UUID(claims["sid"])
        except ValueError:
            raise Unauthorized("auth.invalid_token", "登录凭证无效，请重新登录") from None
        # The session and its account in one statement, read on every request so that logout and
        # disabling take effect at once on every worker and instance.
        session = await _SESSION_WITH[kind].get_or_none(session_id)
        if session is None or session.revoked_at is not None:
            raise Unauthorized("auth.token_revoked", "登录已失效，请重新登录")
        if session.expires_at <= now():
            raise Unauthorized("auth.token_expired", "登录已过期，请重新登录")
        if kind == SubjectKind.STAFF:
            staff = session.staff
            if staff is None or not staff.is_active:
                raise Unauthorized("auth.account_disabled", "账号已停用，请联系管理员")
            return Authenticated(session, None, staff)
        return Authenticated(session, session.user, None)

    async def revoke(self, session: AuthSession) -> None:
        await AuthSession.filter(id=session.id, revoked_at=None).update(revoked_at=now())

    def csrf_token(self, session_id: uuid.UUID) -> str:
        return hmac.new(self._key.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()

    def csrf_matches(self, session_id: uuid.UUID, candidate: str) -> bool:
        return candidate.isascii() and hmac.compare_digest(self.csrf_token(session_id), candidate)
