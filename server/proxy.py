"""Who is really on the other end, behind a reverse proxy.

`X-Forwarded-For`, `-Proto` and `-Host` are believed only from a peer listed in `TRUSTED_PROXIES`;
from anyone else they are the client's own words and ignored, so a client cannot pick the
address that the audit log records and the rate limits count. Sanic's own `PROXIES_COUNT` and
`REAL_IP_HEADER` trust the headers whoever sends them, hence this module.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address

from sanic import Request


@lru_cache(maxsize=4096)  # the same few peers and hops on every request; parsing each cost ~10 µs
def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def _from_trusted_proxy(request: Request) -> bool:
    networks = request.app.ctx.settings.trusted_proxies
    if not networks:
        return False
    peer = _address(request.ip or "")
    return peer is not None and any(peer in network for network in networks)


def _forwarded(request: Request, header: str) -> list[str]:
    return [part.strip() for value in request.headers.getall(header, []) for part in value.split(",") if part.strip()]


def client_ip(request: Request) -> str:
    """The first address, walking `X-Forwarded-For` back from our peer, that is not a trusted
    proxy: each trusted proxy vouches for the hop before it, nobody vouches for the rest."""
    cached = getattr(request.ctx, "client_ip", None)
    if cached is not None:
        return cached
    address = request.ip or ""
    if _from_trusted_proxy(request):
        networks = request.app.ctx.settings.trusted_proxies
        for hop in reversed(_forwarded(request, "x-forwarded-for")):
            parsed = _address(hop)
            if parsed is None:
                break
            address = str(parsed)
            if not any(parsed in network for network in networks):
                break
    request.ctx.client_ip = address
    return address


def is_https(request: Request) -> bool:
    """Whether the client's own request was https, as the TLS-terminating proxy reports it."""
    if _from_trusted_proxy(request) and (protos := _forwarded(request, "x-forwarded-proto")):
        return protos[0].lower() == "https"
    return request.scheme == "https"


def public_host(request: Request) -> str:
    """The host (and port) the client addressed."""
    if _from_trusted_proxy(request) and (hosts := _forwarded(request, "x-forwarded-host")):
        return hosts[0].lower()
    return request.headers.get("host", "").lower()
