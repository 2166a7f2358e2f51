"""The staff session cookie and the login nonce cookie, and the `Origin` check that every
cookie-authenticated write passes.

The cookies are `Secure` whenever the client's request was https (a TLS proxy in front, see
server/proxy.py) and always in production, where they also carry the `__Host-` prefix (or
`__Secure-` for the nonce, whose path is /admin): a sibling subdomain can then neither set nor
shadow them. Development over plain http (`make run`) keeps plain cookies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sanic import Request
from sanic.response import HTTPResponse

from models.errors import Forbidden
from server.proxy import is_https, public_host

ADMIN_SESSION_COOKIE = "gh_admin_session"
LOGIN_NONCE_COOKIE = "gh_login_nonce"
_PATHS = {ADMIN_SESSION_COOKIE: "/", LOGIN_NONCE_COOKIE: "/admin"}


def _production(request: Request) -> bool:
    return request.app.ctx.settings.environment == "production"


def _prefixes(request: Request, name: str) -> dict[str, bool]:
    production = _production(request)
    return {"host_prefix": production and _PATHS[name] == "/", "secure_prefix": production and _PATHS[name] != "/"}


def read_cookie(request: Request, name: str) -> str:
    prefix = ""
    if _production(request):
        prefix = "__Host-" if _PATHS[name] == "/" else "__Secure-"
    # The exact name: in production a plain-named cookie (planted by a sibling host) is not ours.
    return request.cookies.get(prefix + name, "") or ""


def set_cookie(
    request: Request, response: HTTPResponse, name: str, value: str, *, max_age: int, samesite: str = "Lax"
) -> None:
    response.add_cookie(
        name,
        value,
        path=_PATHS[name],
        httponly=True,
        samesite=samesite,  # type: ignore[arg-type]
        secure=_production(request) or is_https(request),
        max_age=max_age,
        **_prefixes(request, name),
    )


def clear_cookie(request: Request, response: HTTPResponse, name: str) -> None:
    response.delete_cookie(name, path=_PATHS[name], **_prefixes(request, name))


def require_same_origin(request: Request) -> None:
    """A browser names the page that sent a write in `Origin` (or, failing that, `Referer`); a
    write from another site's page is refused. Without either header the CSRF token decides."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return
    if source == "null" or urlsplit(source).netloc.lower() != public_host(request):
        raise Forbidden("auth.cross_origin", "请求来源无法确认，请从管理页面重新操作")
